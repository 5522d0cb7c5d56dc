import type { Command } from 'commander';

const quote = (words: readonly string[]) => words.join(' ');
const flagsOf = (cmd: Command) => cmd.options.flatMap((o) => [o.long, o.short]).filter((f): f is string => !!f);

/**
 * A completion script made from the command tree itself, so it knows every noun, verb and flag the
 * CLI has. zsh uses the same function through bashcompinit.
 */
export function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  const top = program.commands.map((c) => c.name());
  const second = program.commands
    .filter((c) => c.commands.length > 0)
    .map((c) => `    ${c.name()}) words="${quote(c.commands.map((s) => s.name()))}" ;;`);
  const flags = program.commands.flatMap((c) =>
    c.commands.length > 0
      ? c.commands.map((s) => `    "${c.name()} ${s.name()}") words="${quote(flagsOf(s))}" ;;`)
      : [`    "${c.name()} "*) words="${quote(flagsOf(c))}" ;;`],
  );
  return `${shell === 'zsh' ? 'autoload -U +X bashcompinit && bashcompinit\n' : ''}# berth completion (${shell}): source <(berth completion ${shell})
_berth_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    words="${quote(top)}"
  elif [ "$COMP_CWORD" -eq 2 ]; then
    case "\${COMP_WORDS[1]}" in
${second.join('\n')}
    esac
  else
    case "\${COMP_WORDS[1]} \${COMP_WORDS[2]}" in
${flags.join('\n')}
    esac
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _berth_complete berth
`;
}
