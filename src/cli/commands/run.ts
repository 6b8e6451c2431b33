import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';

// Placeholder: replaced by the issue that implements `repro run`.
export function runCommand(program: Command): void {
  program
    .command('run')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => {
      throw new CliError("'repro run' is not implemented yet", ExitCode.INTERNAL);
    });
}
