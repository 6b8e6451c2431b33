import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';

// Placeholder: replaced by the issue that implements `repro verify`.
export function verifyCommand(program: Command): void {
  program
    .command('verify')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => {
      throw new CliError("'repro verify' is not implemented yet", ExitCode.INTERNAL);
    });
}
