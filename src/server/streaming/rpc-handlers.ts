import type { AttachRequest__Output } from '../../cri/generated/runtime/v1/AttachRequest.js';
import type { ExecRequest__Output } from '../../cri/generated/runtime/v1/ExecRequest.js';
import type { PortForwardRequest__Output } from '../../cri/generated/runtime/v1/PortForwardRequest.js';
import type { StreamingService } from './service.js';

/** Adds the Exec, Attach and PortForward RPC handlers, served by `service`, to a handler table. */
export function addStreamingHandlers(handlers: Record<string, unknown>, service: StreamingService): void {
  handlers.Exec = (request: ExecRequest__Output) => service.exec(request);
  handlers.Attach = (request: AttachRequest__Output) => service.attach(request);
  handlers.PortForward = (request: PortForwardRequest__Output) => service.portForward(request);
}
