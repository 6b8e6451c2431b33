import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';

// Placeholder: replaced by the issue that implements `repro why`.
export function whyCommand(program: Command): void {
  program
    .command('why')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => {
      throw new CliError("'repro why' is not implemented yet", ExitCode.INTERNAL);
    });
}
