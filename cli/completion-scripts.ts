/**
 * The shell scripts `claude-sessions completion <shell>` prints. Each only passes the words
 * typed so far to `claude-sessions __complete`, which knows the commands (from clipanion's
 * definitions, so a new command completes without editing these) and asks a running daemon for
 * session names. A lone `__files__` line means: complete file names as the shell does.
 */

const bash = `# claude-sessions completion for bash. Install:
#   claude-sessions completion bash > ~/.local/share/bash-completion/completions/claude-sessions
# or add to ~/.bashrc: source <(claude-sessions completion bash)
_claude_sessions() {
  local IFS=$'\\n'
  local -a candidates
  candidates=($(claude-sessions __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
  if [[ "\${candidates[0]}" == __files__ ]]; then
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "\${COMP_WORDS[COMP_CWORD]}"))
  else
    COMPREPLY=("\${candidates[@]}")
  fi
}
complete -F _claude_sessions claude-sessions
`;

const zsh = `#compdef claude-sessions
# claude-sessions completion for zsh. Install (compinit loads it):
#   claude-sessions completion zsh > "\${fpath[1]}/_claude-sessions"
# or add to ~/.zshrc, after compinit: source <(claude-sessions completion zsh)
_claude-sessions() {
  local -a candidates
  candidates=("\${(@f)$(claude-sessions __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  candidates=(\${candidates:#})
  if [[ "\${candidates[1]}" == __files__ ]]; then
    _files
  elif (( \${#candidates} )); then
    compadd -- "\${candidates[@]}"
  fi
}
if [[ "\${funcstack[1]}" == _claude-sessions ]]; then
  _claude-sessions "$@"
else
  compdef _claude-sessions claude-sessions
fi
`;

const fish = `# claude-sessions completion for fish. Install:
#   claude-sessions completion fish > ~/.config/fish/completions/claude-sessions.fish
function __claude_sessions_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l current (commandline -ct)
    set -l candidates (claude-sessions __complete -- $words "$current" 2>/dev/null)
    if test "$candidates[1]" = __files__
        __fish_complete_path "$current"
    else
        printf '%s\\n' $candidates
    end
end
complete -c claude-sessions -f -a '(__claude_sessions_complete)'
`;

/** The completion script for each shell, by name. */
export const completionScripts: Readonly<Record<string, string>> = { bash, zsh, fish };
