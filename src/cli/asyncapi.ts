import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageVersion } from '../app';
import { asyncApiDocument } from '../messaging/asyncapi';
import { eventJsonSchemas } from '../events/event-schemas';

/** The committed copies of the published schemas (a test checks they equal the generated ones). */
export function schemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const text = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  files.set('docs/asyncapi.json', text(asyncApiDocument(packageVersion())));
  for (const [type, schema] of Object.entries(eventJsonSchemas())) {
    files.set(
      `docs/event-schemas/${type}.schema.json`,
      text({ $schema: 'http://json-schema.org/draft-07/schema#', ...schema }),
    );
  }
  return files;
}

/** `npm run asyncapi`: writes docs/asyncapi.json and docs/event-schemas/*.schema.json. */
if (require.main === module) {
  const root = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
  for (const [file, text] of schemaFiles()) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
    console.log(`wrote ${file}`);
  }
}
