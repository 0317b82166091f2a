export {
  killAllServers,
  type LogLine,
  respawn,
  type ServerProcess,
  type SpawnOptions,
  spawnServer,
} from './server-process';
