/**
 * Edits of models/manifest.json's text that keep every other byte as it was: the file is written by
 * training/export_onnx.py with Python's json (escaped non-ASCII, float forms JS would not
 * reproduce), so it is never re-serialised; values are spliced in where they belong. Pure.
 */

/**
 * Set `evaluation` in each model entry of the manifest text, leaving every other byte as it
 * was (training/export_onnx.py writes it with Python's json: escaped non-ASCII, float forms JS
 * would not reproduce). Entries are found by a small scanner over the JSON text.
 */
export function spliceEvaluations(text: string, evaluations: Map<string, unknown>): string {
  const skipWs = (i: number) => { while (/\s/.test(text[i])) i++; return i; };
  const endOfString = (i: number) => { i++; while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1; return i + 1; };
  const endOfValue = (i: number): number => {
    i = skipWs(i);
    if (text[i] === '"') return endOfString(i);
    if (text[i] === '{' || text[i] === '[') {
      let depth = 0;
      for (;;) {
        const c = text[i];
        if (c === '"') { i = endOfString(i); continue; }
        if (c === '{' || c === '[') depth++;
        if (c === '}' || c === ']') { depth--; if (depth === 0) return i + 1; }
        i++;
      }
    }
    while (i < text.length && !/[\s,}\]]/.test(text[i])) i++;
    return i;
  };
  /** Members of the object starting at `i`: key, where the key starts, where the value starts and ends. */
  const members = (i: number) => {
    const list: { key: string; keyStart: number; valueStart: number; valueEnd: number }[] = [];
    i = skipWs(i + 1);
    while (text[i] !== '}') {
      const keyStart = i, keyEnd = endOfString(i);
      const key = JSON.parse(text.slice(keyStart, keyEnd)) as string;
      const valueStart = skipWs(skipWs(keyEnd) + 1);
      const valueEnd = endOfValue(valueStart);
      list.push({ key, keyStart, valueStart, valueEnd });
      i = skipWs(valueEnd);
      if (text[i] === ',') i = skipWs(i + 1);
    }
    return list;
  };
  const top = members(skipWs(0));
  const models = top.find((m) => m.key === 'models');
  if (!models || text[models.valueStart] !== '[') throw new Error('The manifest has no "models" array.');
  const edits: { start: number; end: number; text: string }[] = [];
  let i = skipWs(models.valueStart + 1);
  while (text[i] !== ']') {
    const end = endOfValue(i);
    const entry = members(i);
    const id = JSON.parse(text.slice(i, end)).id as string;
    if (evaluations.has(id) && entry.length) {
      const indent = text.slice(text.lastIndexOf('\n', entry[0].keyStart) + 1, entry[0].keyStart);
      const json = JSON.stringify(evaluations.get(id), null, 2)
        .replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
        .split('\n').join('\n' + indent);
      const old = entry.find((m) => m.key === 'evaluation');
      if (old) edits.push({ start: old.valueStart, end: old.valueEnd, text: json });
      else {
        const last = entry[entry.length - 1];
        edits.push({ start: last.valueEnd, end: last.valueEnd, text: `,\n${indent}"evaluation": ${json}` });
      }
    }
    i = skipWs(end);
    if (text[i] === ',') i = skipWs(i + 1);
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}
