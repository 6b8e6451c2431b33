// How a value from `${{ ... }}` enters a command line: always as data, never as syntax.
//
// A `run` step's string command is a shell line written by the workflow's author. A value placed
// into it (a param, a --set value, an earlier step's output) is quoted for the place where it
// stands, so the shell sees exactly one literal piece of text:
//
//   command: echo ${{ params.x }}          x = "a; rm -rf ~"  →  echo 'a; rm -rf ~'
//   command: echo "id=${{ params.x }}"     x = "$(id)"        →  echo "id=\$(id)"
//   command: echo 'id=${{ params.x }}'     x = "it's"         →  echo 'id=it'\''s'
//
// Places where no quoting can make a value inert (a here-document, backquotes, right after `$` or
// a backslash) are refused at plan time. With `shell: false` the line is split on spaces, and a
// value's own spaces are escaped, so it stays inside one argument.

/** How the text around an embedded value treats it; a string is the reason it cannot be placed there. */
export type Embedding = 'bare' | 'dq' | 'sq' | 'comment' | 'words';

/** Where a value may go in a step kind's `with`: a slash path ('/command') and its syntax. */
export interface CommandLine {
  path: string;
  syntax: 'sh' | 'words';
}

/** A value that needs no quotes in a shell word (and keeps fingerprints of plain values unchanged). */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** The quoting context at the end of `before` (the literal text of a shell line up to the value), or why none is safe. */
export function shellContextAt(before: string): Exclude<Embedding, 'words'> | { refuse: string } {
  type Frame = 'bare' | 'dq' | 'sq' | 'sub' | 'paren' | 'bt' | 'comment';
  const stack: Frame[] = ['bare'];
  let heredoc = false;
  let backquote = false;
  for (let i = 0; i < before.length; i++) {
    const c = before[i]!;
    const top = stack[stack.length - 1]!;
    if (top === 'sq') {
      if (c === "'") stack.pop();
      continue;
    }
    if (top === 'comment') {
      if (c === '\n') stack.pop();
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= before.length) return { refuse: 'it follows a backslash, which would escape the quote that keeps it inert' };
      i++;
      continue;
    }
    if (c === '$' && before[i + 1] === '(') {
      stack.push('sub');
      i++;
      continue;
    }
    if (c === '`') {
      backquote = true;
      if (top === 'bt') stack.pop();
      else stack.push('bt');
      continue;
    }
    if (top === 'dq') {
      if (c === '"') stack.pop();
      continue;
    }
    // Unquoted text (the line itself, inside $( ) or ( )).
    if (c === "'") stack.push('sq');
    else if (c === '"') stack.push('dq');
    else if (c === '(') stack.push('paren');
    else if (c === ')' && (top === 'sub' || top === 'paren')) stack.pop();
    else if (c === '<' && before[i + 1] === '<' && before[i + 2] !== '<') heredoc = true;
    else if (c === '#' && (i === 0 || /[\s;&|()]/.test(before[i - 1]!))) stack.push('comment');
  }
  if (heredoc) return { refuse: 'the line has a here-document (<<), whose body the shell expands; pass the value through env: instead' };
  if (backquote) return { refuse: 'the line uses backquotes, which re-read quoted text; write $( ) instead, or pass the value through env:' };
  if (/(^|[^\\])\$$/.test(before)) return { refuse: "it follows '$', so it would be read as part of an expansion" };
  const top = stack[stack.length - 1]!;
  if (top === 'sq' || top === 'dq' || top === 'comment') return top;
  return 'bare';
}

/** The text that stands for `value` in the given context; the shell reads it back as exactly `value`. */
export function quoteFor(embedding: Embedding, value: string): string {
  switch (embedding) {
    case 'bare':
      return PLAIN.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
    case 'dq':
      return value.replace(/[\\"$`]/g, '\\$&');
    case 'sq':
      return value.replace(/'/g, "'\\''");
    case 'comment':
      // A line break would end the comment and start a command.
      return value.replace(/[\r\n]+/g, ' ');
    case 'words':
      // execa's parseCommandString splits on runs of spaces; '\ ' keeps a space inside the argument.
      return value.replace(/ /g, '\\ ');
  }
}

/** The embedding for a value placed after `before` in a command line of the given syntax. */
export function embeddingAt(syntax: CommandLine['syntax'], before: string): Embedding | { refuse: string } {
  return syntax === 'words' ? 'words' : shellContextAt(before);
}
