import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';

// Placeholder: replaced by the issue that implements `repro report`.
export function reportCommand(program: Command): void {
  program
    .command('report')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => {
      throw new CliError("'repro report' is not implemented yet", ExitCode.INTERNAL);
    });
}
