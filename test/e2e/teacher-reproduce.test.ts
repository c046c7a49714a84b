/**
 * The committed teacher (harness/fixtures/teacher) is what its script makes: the options in teacher.json
 * are TEACHER_OPTIONS, training from them reproduces the recorded checksum of the weights after the
 * checkpoint step bit for bit, the weights file has the recorded sha256, and our forward pass on the
 * committed weights gives the recorded validation accuracy exactly (lm-eval's mmlu_continuation, 5 dev
 * shots, spaces as bytes; llama.cpp's "▁" encoding is checked by teacher-accuracy). Made-up weights or
 * figures fail. ~20 s on the busy 2-vCPU box (2 training steps; 32 prompts of ~200–500 tokens through the
 * forward pass once each, the 4 choices continuing each).
 */
import { describe, expect, it } from 'vitest'
import {
  buildKnowledgeSet,
  KNOWLEDGE_GENERATOR_VERSION,
} from '../../harness/fixtures/knowledge/knowledge-set.ts'
import { loadTeacher } from '../../harness/fixtures/teacher/load.ts'
import { TEACHER_OPTIONS } from '../../harness/fixtures/teacher/options.ts'
import { weightsSha256 } from '../../harness/fixtures/teacher/weights-file.ts'
import { accuracy } from '../../harness/fixtures/train/evaluate.ts'
import { trainTeacher } from '../../harness/fixtures/train/teacher.ts'

describe('committed teacher', () => {
  const { record, weights } = loadTeacher()

  it('was trained with the current options and knowledge generator', () => {
    expect(record.options, 'teacher.json options').toEqual(TEACHER_OPTIONS)
    expect(record.options.knowledgeVersion, 'knowledge generator').toBe(KNOWLEDGE_GENERATOR_VERSION)
    expect(weightsSha256(weights), 'loaded weights re-serialized').toBe(record.weights.sha256)
  })

  it('training from its options reproduces the checkpoint checksum', () => {
    const early = trainTeacher(record.options, { stopAfter: record.checkpoint.step })
    expect(weightsSha256(early), `sha256 after ${record.checkpoint.step} steps`).toBe(
      record.checkpoint.sha256,
    )
  }, 120_000)

  it('has the recorded validation accuracy under our forward pass', () => {
    const set = buildKnowledgeSet(record.options.knowledgeSeed)
    // Spaces as 0x20 only: the "▁" encoding is what llama.cpp feeds the model, and teacher-accuracy checks
    // llama.cpp's count against the recorded one (half this file's time, ~25 s, saved from npm test).
    const got = accuracy(weights, set.splits.val, set.splits.dev, 5, 'byte', 'mmlu-continuation')
    expect(got, 'val, spaces as bytes').toEqual(record.accuracy.val.byte)
  }, 120_000)
})
