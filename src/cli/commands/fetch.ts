import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';

// Placeholder: replaced by the issue that implements `repro fetch`.
export function fetchCommand(program: Command): void {
  program
    .command('fetch')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => {
      throw new CliError("'repro fetch' is not implemented yet", ExitCode.INTERNAL);
    });
}
