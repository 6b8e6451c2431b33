import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';

// Placeholder: replaced by the issue that implements `repro export`.
export function exportCommand(program: Command): void {
  program
    .command('export')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => {
      throw new CliError("'repro export' is not implemented yet", ExitCode.INTERNAL);
    });
}
