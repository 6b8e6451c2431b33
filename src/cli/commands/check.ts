import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';

// Placeholder: replaced by the issue that implements `repro check`.
export function checkCommand(program: Command): void {
  program
    .command('check')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => {
      throw new CliError("'repro check' is not implemented yet", ExitCode.INTERNAL);
    });
}
