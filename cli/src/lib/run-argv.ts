/** What the splitter needs to know of a flag: whether a value follows it, and its one-letter alias. */
export type FlagShapes = Record<string, { type?: string; char?: string }>;

/**
 * Splits `secr run`'s argv into its own flags and the child's command line: secr's flags end at `--`
 * or at the first word that is neither a flag nor a flag's value (`secr run node -e "…"` gives `-e`
 * to node). `child` is undefined when there is no command.
 */
export function splitRunArgv(argv: string[], ...flagSets: FlagShapes[]): { own: string[]; child: string[] | undefined } {
  const takesValue = new Set<string>();
  for (const flags of flagSets) {
    for (const [name, flag] of Object.entries(flags)) {
      if (flag.type !== 'option') continue;
      takesValue.add(`--${name}`);
      if (flag.char) takesValue.add(`-${flag.char}`);
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') return { own: argv.slice(0, i), child: argv.slice(i + 1) };
    if (!word.startsWith('-') || word === '-') return { own: argv.slice(0, i), child: argv.slice(i) };
    if (takesValue.has(word)) i++; // its value follows (`--env prod`); `--env=prod` and `-eprod` are one word
  }
  return { own: argv, child: undefined };
}
