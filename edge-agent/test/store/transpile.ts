/**
 * Turns a TypeScript entry file and every file it reaches by relative import into
 * plain ESM JavaScript under `outDir`, keeping their layout relative to `root` (the
 * repository, whose node_modules it links in), so that a child process can start
 * with bare `node` (~0.15 s of CPU here) instead of `node --import tsx` (~0.55 s).
 * The SIGKILL test starts two hundred children.
 */
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export async function transpileTree(entry: string, root: string, outDir: string): Promise<string> {
  const todo = [resolve(entry)];
  const done = new Set<string>();
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = await readFile(file, 'utf8');
    for (const { fileName } of ts.preProcessFile(source, true, true).importedFiles) {
      if (fileName.startsWith('.')) todo.push(resolve(dirname(file), fileName.replace(/\.js$/, '.ts')));
    }
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    const out = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, outputText);
  }
  await writeFile(join(outDir, 'package.json'), '{ "type": "module" }\n');
  await symlink(join(root, 'node_modules'), join(outDir, 'node_modules')); // for any package import
  return join(outDir, relative(root, resolve(entry))).replace(/\.ts$/, '.js');
}
