import { syncHook } from '../hooks/syncHook';
import { reply, type RequestHook } from '../hooks/types';

/** Answers 403 to every request whose client address `allows` rejects (a CIDR matcher). */
export function allowFrom(allows: (address: string) => boolean): RequestHook {
  return syncHook((request) =>
    allows(request.remoteAddress)
      ? request
      : { ...reply(request, 403, { error: 'forbidden' }), reason: 'forbidden' },
  );
}
