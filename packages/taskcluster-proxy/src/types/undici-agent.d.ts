// undici's Agent by its own file (undici/index.js loads far more than the proxy uses; the
// package has no exports map, so the path is public); typed as the Agent undici exports.
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';
  const AgentClass: typeof Agent;
  export default AgentClass;
}
