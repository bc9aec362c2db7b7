/**
 * Every export of every public entry point (the package's `exports`) has a doc comment where it
 * is declared, so that hovering it in an editor shows what it is: found with the TypeScript
 * compiler API, following re-exports to the declaration.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { repositoryFile } from '../support/repository.js';

/** The source of each public entry point, from package.json's `exports` (`dist/src/x.js` → `src/x.ts`). */
function entryPoints(): string[] {
  const manifest = repositoryFile('package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: Record<string, string | { default: string }>;
  };
  return Object.values(exports)
    .map((target) => (typeof target === 'string' ? target : target.default))
    .filter((target) => target.endsWith('.js'))
    .map((target) => join(dirname(manifest), target.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')));
}

/** The exports of `entry` whose declarations carry no JSDoc comment ("entry: Name (file)"). */
function undocumented(program: ts.Program, entry: string): string[] {
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const missing: string[] = [];
  for (const exported of checker.getExportsOfModule(module)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declarations = symbol.declarations ?? [];
    // A namespace re-export (`export * as errors`) is documented by its members.
    if (declarations.some((d) => ts.isSourceFile(d))) continue;
    const documented = declarations.some((declaration) => {
      // A `const` carries its comment on the statement, not on the declarator.
      const host = ts.isVariableDeclaration(declaration) ? declaration.parent.parent : declaration;
      return ts.getJSDocCommentsAndTags(host).length > 0;
    });
    if (!documented) {
      const where = declarations[0]?.getSourceFile().fileName.replace(/^.*\/src\//, 'src/') ?? '?';
      missing.push(`${entry.replace(/^.*\/src\//, 'src/')}: ${exported.name} (${where})`);
    }
  }
  return missing;
}

test('every export of every entry point has a doc comment on its declaration', () => {
  const entries = entryPoints();
  assert.ok(entries.length >= 3, `entry points: ${entries.join(', ')}`);
  const program = ts.createProgram(entries, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    experimentalDecorators: true,
    noEmit: true,
  });
  const missing = entries.flatMap((entry) => undocumented(program, entry));
  assert.deepEqual(missing, [], `exports without a doc comment:\n${missing.join('\n')}`);
});
