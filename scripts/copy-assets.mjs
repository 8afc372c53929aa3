// Copies the files the compiled code loads at run time next to it: the .proto (the server and
// client load it), the pty helper (src/docker/sessions.ts runs it under python3) and the process
// starter (src/docker/process-starter.ts, python3 too).
import { cpSync, mkdirSync } from 'node:fs';
for (const file of ['src/cri/api.proto', 'src/docker/pty-helper.py', 'src/docker/spawner.py']) {
  mkdirSync(`dist/${file.slice(0, file.lastIndexOf('/'))}`, { recursive: true });
  cpSync(file, `dist/${file}`);
}
