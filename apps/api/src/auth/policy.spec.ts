import { createLogger } from '@berth/platform';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { AppModule } from '../app.module';
import { ApiEnv } from '../config';
import { TERMINAL_ROUTE } from '../terminal/terminal-route';
import { POLICY, POLICY_ACTION } from './policy';

const appModule = AppModule.forRoot(
  Object.assign(new ApiEnv(), { BERTH_DATABASE_URL: 'postgres://unused' }),
  createLogger('t', 'silent'),
);

/** Every route handler of every controller, with the policy action it names (if any). */
function handlers(): Array<{ name: string; action: unknown }> {
  return (appModule.controllers ?? []).flatMap((controller) => {
    const proto = controller.prototype as Record<string, unknown>;
    return Object.getOwnPropertyNames(proto)
      .filter((key) => key !== 'constructor' && typeof proto[key] === 'function')
      .filter((key) => Reflect.getMetadata(METHOD_METADATA, proto[key] as object) !== undefined)
      .map((key) => ({
        name: `${controller.name}.${key} (${String(Reflect.getMetadata(PATH_METADATA, proto[key] as object))})`,
        action: Reflect.getMetadata(POLICY_ACTION, proto[key] as object),
      }));
  });
}

describe('the policy table', () => {
  it('names an action for every route handler', () => {
    const missing = handlers().filter((h) => typeof h.action !== 'string' || !(h.action in POLICY));
    expect(missing.map((h) => h.name)).toEqual([]);
    expect(handlers().length).toBeGreaterThan(30);
  });

  it('has no action that no handler uses', () => {
    // The console's WebSocket is a Fastify route of its own (terminal-route.ts), not a Nest handler.
    const used = new Set([...handlers().map((h) => h.action), TERMINAL_ROUTE.action]);
    expect(Object.keys(POLICY).filter((a) => !used.has(a))).toEqual([]);
  });
});
