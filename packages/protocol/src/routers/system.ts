import { healthSchema } from '../schemas/system';
import type { Services } from '../services';
import { publicProcedure, router } from '../trpc';

export function createSystemRouter(system: Services['system']) {
  return router({
    health: publicProcedure.output(healthSchema).query(() => system.health()),
  });
}
