import { buildBundle, isBundleArch, BUNDLE_ARCHES } from '../../bundle/index.js';
import { parse } from '../args.js';
import { UsageError } from '../errors.js';

function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

export async function bundle(args: string[]): Promise<number> {
  const { values } = parse(args, {
    arch: { type: 'string' },
    out: { type: 'string' },
    'node-tarball': { type: 'string' },
    'with-node': { type: 'string' },
  });
  const arch = values.arch;
  if (arch === undefined) throw new UsageError(`bundle needs --arch (${BUNDLE_ARCHES.join(' or ')})`);
  if (!isBundleArch(arch)) throw new UsageError(`--arch must be ${BUNDLE_ARCHES.join(' or ')}, got "${arch}"`);
  if (values.out === undefined) throw new UsageError('bundle needs --out DIR');
  if (values['node-tarball'] !== undefined && values['with-node'] !== undefined) {
    throw new UsageError('give --node-tarball or --with-node, not both');
  }
  const node =
    values['node-tarball'] !== undefined
      ? { tarball: values['node-tarball'] }
      : values['with-node'] !== undefined
        ? { version: values['with-node'] }
        : undefined;

  const result = await buildBundle({
    arch,
    outDir: values.out,
    ...(node ? { node } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const d = result.description;
  const out = process.stdout;
  out.write(`bundle      ${result.dir}\n`);
  out.write(`files       ${d.files} (${mib(result.bytes)}), ${d.packages} packages in node_modules\n`);
  out.write(`node        ${d.node === null ? `none (the board's node must satisfy ${d.nodeRequired ?? 'the engines field'})` : `${d.node} (${d.nodeSource?.from ?? ''})`}\n`);
  out.write(`native      ${d.native.present ? (d.native.files ?? []).join(', ') : `none: ${d.native.reason ?? ''}`}\n`);
  out.write(`circuits    ${d.circuits.present ? `${d.circuits.files ?? 0} files` : 'none'}\n`);
  for (const f of d.fallbacks) out.write(`fallback    ${f.name}: ${f.reason}; ${f.effect}\n`);
  out.write(`manifest    sha256 ${result.manifestSha256}  (MANIFEST.sha256; check it out of band before installing)\n`);
  return 0;
}
