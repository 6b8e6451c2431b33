import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';

// Placeholder: replaced by the issue that implements `repro validate`.
export function validateCommand(program: Command): void {
  program
    .command('validate')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => {
      throw new CliError("'repro validate' is not implemented yet", ExitCode.INTERNAL);
    });
}
