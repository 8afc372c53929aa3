// Copies the .proto next to the compiled code: the server and client load it at run time.
import { cpSync, mkdirSync } from 'node:fs';
mkdirSync('dist/src/cri', { recursive: true });
cpSync('src/cri/api.proto', 'dist/src/cri/api.proto');
