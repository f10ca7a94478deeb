import { closeFrame, pingFrame } from '../../src/net/wsControlFrames';
import { FrameScanner, ScanResult } from '../../src/net/wsFrameScanner';
import { framesIn } from '../helpers/rawWebSocket';

const scannerFor = (masked: boolean) => new FrameScanner({ masked, maxMessageSize: 0 });

describe('the proxy`s own control frames', () => {
  it.each([true, false])('a close frame (masked %s) reads back with its code and reason', (m) => {
    const data = closeFrame(1001, 'going away', m);
    const scanner = scannerFor(m);
    expect(scanner.scan(data)).toBe(ScanResult.Close);
    expect([scanner.closeCode, scanner.closeReason]).toEqual([1001, 'going away']);
    expect(framesIn(data)).toEqual([
      { opcode: 0x8, payload: Buffer.from([0x03, 0xe9, ...Buffer.from('going away')]), masked: m },
    ]);
  });

  it('cuts a reason to 123 bytes between characters', () => {
    const data = closeFrame(4000, 'ü'.repeat(100), false);
    const scanner = scannerFor(false);
    expect(scanner.scan(data)).toBe(ScanResult.Close);
    expect(scanner.closeReason).toBe('ü'.repeat(61));
    expect(data.length).toBe(2 + 2 + 122);
  });

  it.each([true, false])('a ping (masked %s) is one empty control frame', (m) => {
    const data = pingFrame(m);
    const scanner = scannerFor(m);
    expect(scanner.scan(data)).toBe(ScanResult.Ok);
    expect([scanner.controlFrames, scanner.atFrameBoundary]).toEqual([1, true]);
    expect(framesIn(data)).toEqual([{ opcode: 0x9, payload: Buffer.alloc(0), masked: m }]);
  });

  it('masks each frame toward a backend with a fresh key', () => {
    const keys = new Set(Array.from({ length: 8 }, () => pingFrame(true).toString('hex')));
    expect(keys.size).toBe(8);
  });
});
