/**
 * `-o go-template --template T`: the part of Go's text/template that crictl templates use, over
 * the JSON crictl would print — field chains (`.status.state`, `$`, `$x.y`), pipelines (`x | json`),
 * `if`/`else if`/`else`, `range` (with `$i, $v :=`), `with`, and crictl's functions (json, title,
 * lower, upper) plus Go's index, len, printf, print, println, eq, ne, not, and, or. A missing map
 * key is an error, as crictl sets missingkey=error.
 */
/** A template that cannot be parsed or run (crictl's words). */
export class TemplateError extends Error {}

type Value = unknown;
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: string }
  | { kind: 'if' | 'with'; branches: Array<{ pipe?: string; body: Node[] }> }
  | { kind: 'range'; pipe: string; vars: string[]; body: Node[]; elseBody: Node[] };

/** Splits the template into text and actions, applying `{{-` and `-}}` trimming. */
function lex(template: string): Array<{ text?: string; action?: string }> {
  const out: Array<{ text?: string; action?: string }> = [];
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    if (open === -1) {
      out.push({ text: rest });
      break;
    }
    let text = rest.slice(0, open);
    const close = rest.indexOf('}}', open + 2);
    if (close === -1) throw new TemplateError('failed to generate go-template: unclosed action');
    let inner = rest.slice(open + 2, close);
    if (inner.startsWith('- ') || inner === '-') {
      text = text.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    let after = rest.slice(close + 2);
    if (inner.endsWith(' -')) {
      inner = inner.slice(0, -1);
      after = after.replace(/^\s+/, '');
    }
    if (text) out.push({ text });
    const trimmed = inner.trim();
    if (!trimmed.startsWith('/*')) out.push({ action: trimmed });
    rest = after;
  }
  return out;
}

function parse(tokens: Array<{ text?: string; action?: string }>): Node[] {
  let pos = 0;
  const block = (stops: string[]): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const token = tokens[pos++]!;
      if (token.text !== undefined) {
        nodes.push({ kind: 'text', text: token.text });
        continue;
      }
      const action = token.action!;
      const word = action.split(/\s+/)[0]!;
      if (stops.includes(word) || (word === 'else' && stops.includes('else'))) return { nodes, stop: action };
      if (word === 'if' || word === 'with') {
        const branches: Array<{ pipe?: string; body: Node[] }> = [];
        let pipe: string | undefined = action.slice(word.length).trim();
        for (;;) {
          const { nodes: body, stop } = block(['end', 'else']);
          branches.push({ pipe, body });
          if (stop === 'end') break;
          if (stop === '') throw new TemplateError(`failed to generate go-template: unexpected EOF in ${word}`);
          const elseIf = /^else\s+(if|with)\s+(.*)$/.exec(stop);
          if (elseIf) pipe = elseIf[2]!;
          else {
            const { nodes: last, stop: end } = block(['end']);
            if (end !== 'end') throw new TemplateError(`failed to generate go-template: unexpected EOF in ${word}`);
            branches.push({ body: last });
            break;
          }
        }
        nodes.push({ kind: word, branches });
      } else if (word === 'range') {
        let pipe = action.slice(5).trim();
        let vars: string[] = [];
        const decl = /^((?:\$\w*\s*,\s*)?\$\w*)\s*:=\s*(.*)$/.exec(pipe);
        if (decl) {
          vars = decl[1]!.split(',').map((v) => v.trim());
          pipe = decl[2]!;
        }
        const { nodes: body, stop } = block(['end', 'else']);
        let elseBody: Node[] = [];
        if (stop === 'else') elseBody = block(['end']).nodes;
        else if (stop !== 'end') throw new TemplateError('failed to generate go-template: unexpected EOF in range');
        nodes.push({ kind: 'range', pipe, vars, body, elseBody });
      } else if (word === 'end' || word === 'else') {
        throw new TemplateError(`failed to generate go-template: unexpected {{${word}}}`);
      } else {
        nodes.push({ kind: 'action', pipe: action });
      }
    }
    return { nodes, stop: '' };
  };
  const { nodes, stop } = block([]);
  if (stop) throw new TemplateError(`failed to generate go-template: unexpected {{${stop}}}`);
  return nodes;
}

/** Splits a pipeline's command into words, keeping quoted strings and parenthesised groups whole. */
function words(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    let j = i;
    if (c === '"' || c === '`') {
      j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      j++;
    } else if (c === '(') {
      let depth = 0;
      for (; j < text.length; j++) {
        if (text[j] === '(') depth++;
        if (text[j] === ')' && --depth === 0) break;
      }
      j++;
    } else {
      while (j < text.length && !/\s/.test(text[j]!)) j++;
    }
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

function splitPipe(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

/** Go's %v of a decoded JSON value. */
function show(value: Value): string {
  if (value === undefined || value === null) return '<no value>';
  if (Array.isArray(value)) return `[${value.map(show).join(' ')}]`;
  if (typeof value === 'object') {
    return `map[${Object.keys(value)
      .sort()
      .map((k) => `${k}:${show((value as Record<string, Value>)[k])}`)
      .join(' ')}]`;
  }
  return String(value);
}

function truthy(value: Value): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function field(value: Value, name: string): Value {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TemplateError(`failed to template data: can't evaluate field ${name} in type ${Array.isArray(value) ? '[]interface {}' : typeof value}`);
  }
  if (!Object.hasOwn(value, name)) throw new TemplateError(`failed to template data: map has no entry for key "${name}"`);
  return (value as Record<string, Value>)[name];
}

function printf(format: string, args: Value[]): string {
  let i = 0;
  return format.replace(/%([-+ #0]*\d*(?:\.\d+)?)([vsdqtxf%])/g, (_m, _flags: string, verb: string) => {
    if (verb === '%') return '%';
    const arg = args[i++];
    if (verb === 'q') return JSON.stringify(show(arg));
    if (verb === 'f') return Number(arg).toFixed(6);
    if (verb === 'x') return Number(arg).toString(16);
    return show(arg);
  });
}

const FUNCTIONS: Record<string, (...args: Value[]) => Value> = {
  json: (v) => JSON.stringify(v) + '\n',
  title: (v) => String(v).replace(/\b\p{L}/gu, (c) => c.toUpperCase()),
  lower: (v) => String(v).toLowerCase(),
  upper: (v) => String(v).toUpperCase(),
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  index: (v, ...keys) => keys.reduce<Value>((acc, k) => (acc as Record<string, Value> | undefined)?.[String(k)], v),
  print: (...args) => args.map(show).join(''),
  println: (...args) => args.map(show).join(' ') + '\n',
  printf: (format, ...args) => printf(String(format), args),
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  not: (v) => !truthy(v),
  and: (...args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
  or: (...args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
};

interface Scope {
  dot: Value;
  vars: Map<string, Value>;
}

function operand(word: string, scope: Scope): Value {
  if (word.startsWith('(')) return evalPipe(word.slice(1, -1), scope);
  if (word.startsWith('"')) return JSON.parse(word);
  if (word.startsWith('`')) return word.slice(1, -1);
  if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
  if (word === 'true' || word === 'false') return word === 'true';
  if (word === 'nil') return null;
  if (word === '.') return scope.dot;
  const chain = /^(\$\w*|)((?:\.[\w-]+)*)$/.exec(word);
  if (!chain) throw new TemplateError(`failed to generate go-template: unexpected "${word}"`);
  let value: Value;
  if (chain[1]) {
    if (!scope.vars.has(chain[1])) throw new TemplateError(`failed to generate go-template: undefined variable "${chain[1]}"`);
    value = scope.vars.get(chain[1]);
  } else value = scope.dot;
  for (const name of chain[2]!.split('.').slice(1)) value = field(value, name);
  return value;
}

function evalCommand(command: string, scope: Scope, piped: Value[]): Value {
  const [head, ...rest] = words(command);
  if (head === undefined) throw new TemplateError('failed to generate go-template: missing value for command');
  const fn = FUNCTIONS[head];
  if (fn) return fn(...rest.map((w) => operand(w, scope)), ...piped);
  if (rest.length > 0 || piped.length > 0) throw new TemplateError(`failed to template data: ${head} is not a function`);
  return operand(head, scope);
}

function evalPipe(pipe: string, scope: Scope): Value {
  let declared: string | undefined;
  const decl = /^(\$\w*)\s*:?=\s*(.*)$/.exec(pipe);
  if (decl) {
    declared = decl[1];
    pipe = decl[2]!;
  }
  let value: Value;
  let first = true;
  for (const command of splitPipe(pipe)) {
    value = evalCommand(command, scope, first ? [] : [value]);
    first = false;
  }
  if (declared) {
    scope.vars.set(declared, value);
    return '';
  }
  return value;
}

function render(nodes: Node[], scope: Scope): string {
  let out = '';
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out += node.text;
        break;
      case 'action': {
        const value = evalPipe(node.pipe, scope);
        if (!/^\$\w*\s*:?=/.test(node.pipe)) out += show(value);
        break;
      }
      case 'if':
      case 'with':
        for (const branch of node.branches) {
          if (branch.pipe === undefined) {
            out += render(branch.body, scope);
            break;
          }
          const value = evalPipe(branch.pipe, scope);
          if (truthy(value)) {
            out += render(branch.body, node.kind === 'with' ? { dot: value, vars: scope.vars } : scope);
            break;
          }
        }
        break;
      case 'range': {
        const value = evalPipe(node.pipe, scope);
        const entries: Array<[Value, Value]> = Array.isArray(value)
          ? value.map((v, i) => [i, v])
          : value && typeof value === 'object'
            ? Object.keys(value).sort().map((k) => [k, (value as Record<string, Value>)[k]])
            : [];
        if (entries.length === 0) out += render(node.elseBody, scope);
        for (const [key, item] of entries) {
          const vars = new Map(scope.vars);
          if (node.vars.length === 1) vars.set(node.vars[0]!, item);
          if (node.vars.length === 2) {
            vars.set(node.vars[0]!, key);
            vars.set(node.vars[1]!, item);
          }
          out += render(node.body, { dot: item, vars });
        }
        break;
      }
    }
  }
  return out;
}

/** Runs a Go template over a decoded JSON value (crictl's tmplExecuteRawJSON). */
export function executeTemplate(template: string, data: Value): string {
  const nodes = parse(lex(template));
  return render(nodes, { dot: data, vars: new Map([['$', data]]) });
}

/** Checks a template's syntax before any call is made (crictl's validateTemplate). */
export function validateTemplate(template: string): void {
  parse(lex(template));
}
