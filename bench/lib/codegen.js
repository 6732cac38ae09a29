// Generates a codec module with tsbpf's own codegen (dist/codegen) for a named C type in an
// object's BTF, and transpiles it to JavaScript beside the object, so benchmarks decode with
// exactly the code `tsbpf gen` would write. The module also exports the type's codec as `BenchCodec`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import ts from 'typescript';

/** Things the report should mention (workarounds for pieces not there yet). */
export const notes = new Set();

/**
 * `fieldAs` (optional): field choices as tsbpf.config.json gives them (`{ 'event.ts': 'number' }`),
 * resolved against the object's BTF as `tsbpf gen --field-as` does.
 */
export async function generateCodec(objectPath, typeName, outPath, fieldAs) {
  const { readObject } = await import('../../dist/btf/index.js');
  const { emitTypesModule, findType } = await import('../../dist/codegen/index.js');
  const { resolveFieldAs } = await import('../../dist/codegen/field-as.js');
  const info = readObject(new Uint8Array(readFileSync(objectPath)), objectPath);
  const id = findType(info.btf, typeName);
  if (id === undefined) throw new Error(`${objectPath}: no BTF type ${typeName}`);
  const choices = fieldAs ? resolveFieldAs(info.btf, fieldAs, findType).byType : undefined;
  const source = emitTypesModule(info.btf, [id], choices ? { fieldAs: choices } : {});
  const bare = typeName.replace(/^(struct|union|enum)\s+/, '');
  const codecName = new RegExp(`/\\*\\* Codec of \\w+ ${bare}\\. \\*/\\s*export const (\\w+)`).exec(
    source,
  )?.[1];
  if (!codecName) throw new Error(`${objectPath}: no codec for ${typeName} in the generated code`);
  // Generated code imports its helpers from 'tsbpf'. While the runtime does not re-export all of
  // them yet, point the import at the codec module itself and say so (notes end up in the report).
  const runtime = await import('tsbpf');
  const wanted = [...source.matchAll(/import \{([^}]*)\} from 'tsbpf'/g)].flatMap((m) =>
    (m[1] ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n && !n.startsWith('type ')),
  );
  const absent = wanted.filter((n) => !(n in runtime));
  let code = source;
  if (absent.length > 0) {
    const codec = new URL('../../dist/codegen/codec.js', import.meta.url).href;
    code = source.replace(/from 'tsbpf'/g, `from '${codec}'`);
    notes.add(
      `generated codecs import ${absent.join(', ')} from 'tsbpf', which the runtime does not export yet; the bench imports them from dist/codegen/codec.js`,
    );
  }
  const js = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023 },
  }).outputText;
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath.replace(/\.js$/, '.ts'), source);
  writeFileSync(outPath, `${js}\nexport { ${codecName} as BenchCodec };\n`);
  return source;
}
