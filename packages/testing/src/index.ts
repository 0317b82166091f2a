export { freePort } from './free-port';
export { type NginxProxy, nginxBinary, startNginxProxy, type UpgradeMode } from './nginx-proxy';
export { type RedisServer, redisServerBinary, startRedisServer } from './redis-server';
export {
  killAllServers,
  type LogLine,
  respawn,
  type ServerProcess,
  type SpawnOptions,
  spawnServer,
} from './server-process';
export { startTcpProxy, type TcpProxy, type TcpProxyOptions } from './tcp-proxy';
