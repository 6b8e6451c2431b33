import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';

// Placeholder: replaced by the issue that implements `repro compare`.
export function compareCommand(program: Command): void {
  program
    .command('compare')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => {
      throw new CliError("'repro compare' is not implemented yet", ExitCode.INTERNAL);
    });
}
