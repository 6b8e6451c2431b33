import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';

// Placeholder: replaced by the issue that implements `repro plan`.
export function planCommand(program: Command): void {
  program
    .command('plan')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => {
      throw new CliError("'repro plan' is not implemented yet", ExitCode.INTERNAL);
    });
}
