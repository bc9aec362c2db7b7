/**
 * The README's code blocks as programs: found by language, written as a user's module (the
 * user's own functions an example names `declare`d, the documented `hosts` replaced with a test
 * server's), and compiler diagnostics mapped back to README lines. Used by readme.test.ts
 * (against the package's own build) and consumers.test.ts (against the packed tarball).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import ts from 'typescript';

export interface Block {
  /** 1-based line of the opening fence in README.md. */
  line: number;
  /** The `## …` / `### …` heading the block sits under. */
  section: string;
  source: string;
  compileOnly: boolean;
}

/** The ```<lang> blocks of a markdown text. */
export function codeBlocks(markdown: string, lang: 'ts' | 'js' | 'json'): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#{2,3} (.*)/.exec(lines[i]!);
    if (heading) section = heading[1]!;
    if (!lines[i]!.startsWith('```')) continue;
    const end = lines.indexOf('```', i + 1);
    assert.ok(end > i, `README.md:${i + 1}: unterminated code block`);
    if (lines[i] === '```' + lang) {
      const compileOnly = lines[i - 1]?.trim() === '<!-- compile-only -->';
      blocks.push({ line: i + 1, section, source: lines.slice(i + 1, end).join('\n'), compileOnly });
    }
    i = end;
  }
  return blocks;
}

/** The user's own functions the examples name: a declaration for the compiler, a global for the run. */
const STAND_INS: Record<string, { declaration: string; implementation: string }> = {
  startCron: {
    declaration: 'declare function startCron(signal: AbortSignal): void;',
    implementation: `(signal) => { console.log('cron started'); signal.addEventListener('abort', () => console.log('cron signal aborted')); }`,
  },
  stopCron: {
    declaration: 'declare function stopCron(): void;',
    implementation: `() => console.log('cron stopped')`,
  },
  processNext: {
    declaration: 'declare function processNext(job: string, signal: AbortSignal): Promise<void>;',
    implementation: `(job, signal) => { console.log('processing ' + job); return new Promise((resolve) => { const t = setTimeout(resolve, 200); signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true }); }); }`,
  },
  reloadEverything: {
    declaration: 'declare function reloadEverything(): Promise<void>;',
    implementation: `async () => console.log('reload')`,
  },
};

/**
 * A block as a module: one header line of declarations (so a diagnostic's line maps back to the
 * README: the block starts one line after the fence), the source with its `hosts: '…'` replaced
 * by `hosts`, and `export {}` so it is a module even without imports.
 */
export function blockModule(block: Block, hosts: string): string {
  const used = Object.keys(STAND_INS).filter((name) => new RegExp(`\\b${name}\\(`).test(block.source));
  const header = used.map((name) => STAND_INS[name]!.declaration).join(' ');
  return `${header}\n${block.source.replace(/hosts: '[^']*'/, `hosts: ${JSON.stringify(hosts)}`)}\nexport {};\n`;
}

/** Defines the stand-ins as globals, for `node --import <file>`. */
export function writeStandIns(file: string): void {
  const standIns = Object.entries(STAND_INS).map(
    ([name, { implementation }]) => `globalThis.${name} = ${implementation};`,
  );
  writeFileSync(file, `${standIns.join('\n')}\n`);
}

/** Diagnostics as `README.md:<line>: message` for a block's file, `file:line: message` otherwise. */
export function describeDiagnostics(
  diagnostics: readonly ts.Diagnostic[],
  files: ReadonlyMap<Block, string>,
): string[] {
  return diagnostics.map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || d.start === undefined) return message;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const block = [...files].find(([, file]) => file === d.file!.fileName)?.[0];
    return block
      ? `README.md:${block.line + line}: ${message}`
      : `${d.file.fileName}:${line + 1}: ${message}`;
  });
}
