import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';

// Placeholder: replaced by the issue that implements `repro gc`.
export function gcCommand(program: Command): void {
  program
    .command('gc')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => {
      throw new CliError("'repro gc' is not implemented yet", ExitCode.INTERNAL);
    });
}
