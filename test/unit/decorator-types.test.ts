/**
 * `@withLock` and `@leaderOnly` accept only methods that return a Promise, in both decorator
 * conventions: test/types/decorators.ts is compiled with the TypeScript compiler API as legacy
 * (`experimentalDecorators`) and as standard TC39 decorators. It must compile as written (its
 * positive cases type-check and every `@ts-expect-error` is used), and without the directives
 * exactly the lines they mark must be errors.
 */
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { repositoryFile } from '../support/repository.js';

const FIXTURE = repositoryFile('test/types/decorators.ts');
const STRIPPED = FIXTURE.replace(/\.ts$/, '.without-directives.ts');
const DIRECTIVE = '// @ts-expect-error';

const MODES: Record<string, ts.CompilerOptions> = {
  legacy: { experimentalDecorators: true, emitDecoratorMetadata: true },
  TC39: { experimentalDecorators: false, emitDecoratorMetadata: false },
};

/** The project's compiler options (tsconfig.json) with `overrides`. */
function projectOptions(overrides: ts.CompilerOptions): ts.CompilerOptions {
  const path = repositoryFile('tsconfig.json');
  const { config } = ts.readConfigFile(path, (file) => ts.sys.readFile(file));
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, dirname(path));
  return { ...parsed.options, ...overrides, noEmit: true };
}

/**
 * Diagnostics ("line: message", 1-based lines) of the fixture as written and of a copy without
 * its directives, compiled together (one program: the library is checked once).
 */
function diagnostics(overrides: ts.CompilerOptions): { asWritten: string[]; withoutDirectives: string[] } {
  const options = projectOptions(overrides);
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === STRIPPED
      ? ts.createSourceFile(
          name,
          ts.sys.readFile(FIXTURE)!.replaceAll(DIRECTIVE, '// expected error'),
          language,
        )
      : read(name, language, ...rest);
  host.fileExists = (name) => name === STRIPPED || ts.sys.fileExists(name);
  const program = ts.createProgram([FIXTURE, STRIPPED], options, host);
  const of = (file: string) => {
    const source = program.getSourceFile(file)!;
    return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map(
      (d) =>
        `${source.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
    );
  };
  return { asWritten: of(FIXTURE), withoutDirectives: of(STRIPPED) };
}

/** The 1-based lines that follow a `@ts-expect-error` directive. */
function expectedLines(text: string): number[] {
  return text.split('\n').flatMap((line, index) => (line.trim().startsWith(DIRECTIVE) ? [index + 2] : []));
}

for (const [mode, overrides] of Object.entries(MODES)) {
  describe(`decorator types (${mode})`, () => {
    const { asWritten, withoutDirectives } = diagnostics(overrides);

    test('the positive cases compile and every @ts-expect-error marks an error', () => {
      assert.deepEqual(asWritten, []);
    });

    test('without the directives, exactly the marked lines are errors: the decorator is refused there', () => {
      const expected = expectedLines(ts.sys.readFile(FIXTURE)!);
      assert.ok(expected.length >= 8, 'the fixture has its negative cases');
      const lines = [...new Set(withoutDirectives.map((entry) => Number(entry.split(':')[0])))];
      assert.deepEqual(lines, expected, withoutDirectives.join('\n'));
      for (const entry of withoutDirectives) assert.match(entry, /decorator/i);
    });
  });
}
