/**
 * The committed distilled student (harness/fixtures/student) is what its script makes, cheaply: the options
 * in student.json are STUDENT_OPTIONS and name the committed teacher's weights, the weights file has the
 * recorded sha256, the untrained twin hashes as recorded, two distillation steps from the options
 * reproduce the recorded checkpoint checksum bit for bit (teacher forward + Hinton loss + student
 * backward + Adam), and our forward pass on the committed weights gives the recorded KLD against the
 * teacher on the held-out batches, far below the untrained student's. The recorded held-out accuracy is
 * checked through the real engines by `npm run bench:quality`, not here (minutes). Made-up weights or
 * figures fail. ~6 s at load average ~1 on the 2-vCPU box (2 steps ~4 s, one batch's KLD ~1 s); 3–4× that
 * while other agents' suites run (load 15–20).
 */
import { describe, expect, it } from 'vitest'
import { KNOWLEDGE_GENERATOR_VERSION } from '../../harness/fixtures/knowledge/knowledge-set.ts'
import { loadStudent, untrainedStudent } from '../../harness/fixtures/student/load.ts'
import { STUDENT_OPTIONS } from '../../harness/fixtures/student/options.ts'
import { loadTeacher } from '../../harness/fixtures/teacher/load.ts'
import { weightsSha256 } from '../../harness/fixtures/teacher/weights-file.ts'
import { batchKld, distillStudent, heldOutBatches } from '../../harness/fixtures/train/distill.ts'

describe('committed distilled student', () => {
  const { record, weights } = loadStudent()
  const { record: teacherRecord, weights: teacher } = loadTeacher()

  it('was distilled with the current options from the committed teacher', () => {
    expect(record.options, 'student.json options').toEqual(STUDENT_OPTIONS)
    expect(record.options.teacherSha256, 'teacher weights').toBe(teacherRecord.weights.sha256)
    expect(record.options.knowledgeVersion, 'knowledge generator').toBe(KNOWLEDGE_GENERATOR_VERSION)
    expect(record.options.shape.vocabSize, 'vocabulary').toBe(teacher.shape.vocabSize)
    expect(weightsSha256(weights), 'loaded weights re-serialized').toBe(record.weights.sha256)
    expect(weightsSha256(untrainedStudent(record)), 'initial weights').toBe(record.initial.sha256)
    expect(record.weights.params, 'smaller than the teacher').toBeLessThan(teacherRecord.weights.params / 2)
  })

  it('distilling from its options reproduces the checkpoint checksum', () => {
    const early = distillStudent(record.options, teacher, { stopAfter: record.checkpoint.step })
    expect(weightsSha256(early), `sha256 after ${record.checkpoint.step} steps`).toBe(
      record.checkpoint.sha256,
    )
  }, 60_000)

  it('has the recorded KLD against the teacher, far below the untrained student’s', () => {
    // The first held-out batch alone (a quarter of the four the record's mean is over).
    const [first] = heldOutBatches(record.options, record.kld.seed, 1)
    const got = batchKld(teacher, weights, first!)
    expect(got.kld, 'KLD of the first held-out batch').toBeCloseTo(record.kld.distilled.perBatch[0]!, 9)
    const { perBatch, tokens, kld } = record.kld.distilled
    expect(perBatch, 'batches').toHaveLength(record.kld.batches)
    expect(tokens, 'tokens').toBeGreaterThan(1000)
    expect(kld * 10, 'distilled ≪ untrained').toBeLessThan(record.kld.untrained.kld)
    expect(Math.max(...perBatch) * 10, 'in every batch').toBeLessThan(
      Math.min(...record.kld.untrained.perBatch),
    )
  }, 60_000)
})
