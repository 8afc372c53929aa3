// Copies the files the compiled code loads at run time next to it: the .proto (the client loads
// it), the pty helper (src/docker/sessions.ts runs it under python3) and the process starter
// (src/docker/process-starter.ts, python3 too); and writes the .proto as protobufjs reflection
// JSON, which the server loads (src/cri/definition.ts).
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import protobuf from 'protobufjs';
for (const file of ['src/cri/api.proto', 'src/docker/pty-helper.py', 'src/docker/spawner.py']) {
  mkdirSync(`dist/${file.slice(0, file.lastIndexOf('/'))}`, { recursive: true });
  cpSync(file, `dist/${file}`);
}
// Field names in camelCase, as proto-loader reads the .proto with keepCase: false.
const root = new protobuf.Root().loadSync('src/cri/api.proto', { keepCase: false });
writeFileSync('dist/src/cri/api.json', JSON.stringify(root.toJSON()));
