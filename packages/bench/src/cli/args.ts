// What every command does with its arguments before its own parsing.

/**
 * `--help` (or `-h`) anywhere prints the command's usage on stdout, and the command then does nothing else
 * (returns true); a flag given twice is an error, not "the last one wins".
 */
export function helpOrDuplicates(args: readonly string[], usage: string): boolean {
  const own = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  if (own.includes('--help') || own.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return true;
  }
  const seen = new Set<string>();
  for (const arg of own) {
    if (!arg.startsWith('--')) continue;
    const name = arg.slice(2).split('=')[0];
    if (seen.has(name)) throw new Error(`--${name} is given twice\n${usage}`);
    seen.add(name);
  }
  return false;
}
