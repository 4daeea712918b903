/**
 * Finds where and why a text is not JSON (RFC 8259). JSON.parse only sometimes
 * says where it stopped, and never as a line and column; an operator editing a
 * config file over SSH needs both. Runs only after JSON.parse has failed, so it
 * favours plain code over speed, and keeps its own stack so deep nesting cannot
 * overflow the call stack.
 */
import { ConfigError } from './errors.js';

export interface JsonSyntaxError {
  /** Offset in UTF-16 code units, the unit JSON.parse counts in. */
  readonly offset: number;
  /** 1-based; lines end at "\n", columns count UTF-16 code units. */
  readonly line: number;
  readonly column: number;
  readonly expected: string;
  readonly got: string;
}

interface Failure {
  readonly offset: number;
  readonly expected: string;
}

const LITERALS: Record<string, string> = { t: 'true', f: 'false', n: 'null' };
const ESCAPES = '"\\/bfnrt';

/** Returns undefined when `text` is valid JSON, otherwise the first place it goes wrong. */
export function locateJsonError(text: string): JsonSyntaxError | undefined {
  if (typeof text !== 'string') throw new ConfigError('BAD_ARGUMENT', 'locateJsonError: text must be a string.');
  const failure = scan(text);
  if (failure === undefined) return undefined;
  const { offset, expected } = failure;
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let line = 1;
  for (let k = text.indexOf('\n'); k !== -1 && k < offset; k = text.indexOf('\n', k + 1)) line++;
  const cp = text.codePointAt(offset);
  const got = cp === undefined ? 'the end of the text' : JSON.stringify(String.fromCodePoint(cp));
  return { offset, line, column: offset - lineStart + 1, expected, got };
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isHex(c: string | undefined): boolean {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}

function scan(text: string): Failure | undefined {
  const n = text.length;
  let i = 0;
  const open: ('{' | '[')[] = []; // the containers we are inside, innermost last

  const fail = (expected: string): Failure => ({ offset: i, expected });
  const skipSpace = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };

  const string = (): Failure | undefined => {
    i++; // the opening quote
    while (i < n) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return undefined;
      }
      if (c < ' ') return fail('a closing \'"\' (control characters in strings must be escaped)');
      if (c !== '\\') {
        i++;
        continue;
      }
      i++;
      const e = text[i];
      if (e === 'u') {
        i++;
        for (let k = 0; k < 4; k++, i++) if (!isHex(text[i])) return fail('4 hexadecimal digits after "\\u"');
      } else if (e !== undefined && ESCAPES.includes(e)) {
        i++;
      } else {
        return fail('an escape sequence: \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX');
      }
    }
    return fail('a closing \'"\'');
  };

  const key = (first: boolean): Failure | undefined => {
    skipSpace();
    if (text[i] !== '"') return fail(first ? 'a double-quoted property name or "}"' : 'a double-quoted property name');
    const bad = string();
    if (bad) return bad;
    skipSpace();
    if (text[i] !== ':') return fail('":" after the property name');
    i++;
    return undefined;
  };

  const number = (): Failure | undefined => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++; // no leading zeros: "01" ends the number after the 0
    else if (!isDigit(text[i])) return fail('a digit');
    else while (isDigit(text[i])) i++;
    if (text[i] === '.') {
      i++;
      if (!isDigit(text[i])) return fail('a digit after "."');
      while (isDigit(text[i])) i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!isDigit(text[i])) return fail('a digit in the exponent');
      while (isDigit(text[i])) i++;
    }
    return undefined;
  };

  for (;;) {
    // A value starts here.
    skipSpace();
    const c = text[i];
    if (c === '{' || c === '[') {
      i++;
      skipSpace();
      const close = c === '{' ? '}' : ']';
      if (text[i] === close) {
        i++;
      } else {
        open.push(c);
        if (c === '{') {
          const bad = key(true);
          if (bad) return bad;
        }
        continue;
      }
    } else if (c === '"') {
      const bad = string();
      if (bad) return bad;
    } else if (c !== undefined && Object.hasOwn(LITERALS, c)) {
      const word = LITERALS[c]!;
      for (const ch of word) {
        if (text[i] !== ch) return fail(JSON.stringify(word));
        i++;
      }
    } else if (c === '-' || isDigit(c)) {
      const bad = number();
      if (bad) return bad;
    } else {
      return fail('a value');
    }

    // A value ended here: close containers until one wants another element.
    for (;;) {
      skipSpace();
      const top = open.at(-1);
      if (top === undefined) return i === n ? undefined : fail('the end of the text');
      const close = top === '{' ? '}' : ']';
      if (text[i] === close) {
        i++;
        open.pop();
        continue;
      }
      if (text[i] !== ',') return fail(`"," or "${close}"`);
      i++;
      if (top === '{') {
        const bad = key(false);
        if (bad) return bad;
      }
      break;
    }
  }
}
