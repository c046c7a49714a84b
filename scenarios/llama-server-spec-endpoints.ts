/**
 * `bench spec-endpoints scenarios/llama-server-spec-endpoints.ts`: speculative decoding on llama-server,
 * the knowledge teacher with its Q4_0 as the draft (fixtures: `bench fixtures --size teacher`). Start the
 * servers first (llama.cpp's llama-server; `-md` alone never drafts: --spec-type defaults to none):
 *
 *   M=.bench/models/teacher-f32.gguf D=.bench/models/teacher-q4_0.gguf
 *   llama-server -m $M --port 8090 --metrics -t 1 &
 *   llama-server -m $M --port 8091 --metrics -t 1 -md $D --spec-type draft-simple --spec-draft-n-max 2 &
 *   llama-server -m $M --port 8092 --metrics -t 1 -md $D --spec-type draft-simple --spec-draft-n-max 4 &
 *   llama-server -m $D --port 8093 --metrics -t 1 &
 */
// Not named spec-*.ts, so the dashboard's Studies page does not offer it (its servers are not started
// here); a copy named scenarios/spec-<name>.ts is launchable there, its key from the worker's environment.
import { defineEndpointStudy } from '../harness/speculative/endpoints/study-file.ts'

export default defineEndpointStudy({
  name: 'teacher-q4-draft-llama-server',
  model: 'teacher',
  off: 'http://127.0.0.1:8090/v1',
  on: [
    { k: 2, url: 'http://127.0.0.1:8091/v1' },
    { k: 4, url: 'http://127.0.0.1:8092/v1' },
  ],
  draftAlone: 'http://127.0.0.1:8093/v1',
  prompts: [
    'Question: What is 3 + 5?\nAnswer:',
    'Question: What is the capital of Norland?\nAnswer:',
    'The river runs past the city and',
  ],
  maxTokens: 48,
  // Every prompt to every server 5 times, interleaved: one pass per server is noise on a shared machine.
  rounds: 5,
})
