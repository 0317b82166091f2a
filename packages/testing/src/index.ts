export { type RunningServer, startServer, stopAllServers } from './server-process';
