/**
 * The benchmark's corpus: real Ed25519 identities, each the author of an
 * equal share of public records of four kinds, whose text is drawn from a
 * synthetic vocabulary with a Zipf distribution (a few words in most
 * records, most words in few), so searches range from very common to rare
 * terms the way they do in real text. Everything is derived from a seed, so
 * two runs index the same corpus.
 */
import {
  type ContentRecord,
  createRecord,
  formatRecordKey,
  type Identity,
  identityFromSecretKey,
  type RecordKind,
} from '@vivim/shared'
import { seeded } from '../../scripts/seeded-random.ts'

export const VOCABULARY_SIZE = 5_000

/** The seeded generator the corpus picks words with (not keys). */
export const prng = seeded

const SYLLABLES = 'ka lo mi ne ru sa te vi zo pa da fe gu hi ja ko li mo nu po ra se ti vo wa ye zu ba ce di'.split(' ')

/** Word `rank` of the vocabulary (rank 0 is the most frequent). */
export function word(rank: number): string {
  let n = rank + SYLLABLES.length
  let text = ''
  while (n > 0) {
    text += SYLLABLES[n % SYLLABLES.length]
    n = Math.floor(n / SYLLABLES.length)
  }
  return text
}

const weights = Array.from({ length: VOCABULARY_SIZE }, (_, i) => 1 / (i + 1))
const total = weights.reduce((a, b) => a + b, 0)
const cdf: number[] = []
weights.reduce((sum, w, i) => {
  cdf[i] = (sum + w) / total
  return sum + w
}, 0)

function zipfRank(random: () => number): number {
  const x = random()
  let lo = 0
  let hi = VOCABULARY_SIZE - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((cdf[mid] as number) < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

function phrase(random: () => number, words: number): string {
  return Array.from({ length: words }, () => word(zipfRank(random))).join(' ')
}

export function identities(count: number, seed: number): Identity[] {
  const random = prng(seed)
  return Array.from({ length: count }, () =>
    identityFromSecretKey(Uint8Array.from({ length: 32 }, () => Math.floor(random() * 256))),
  )
}

const KINDS: readonly RecordKind[] = ['circle', 'conversation', 'post', 'post']

/** Record `index` of the corpus, signed by its author (authors take turns). */
export function corpusRecord(authors: readonly Identity[], index: number, now: number): ContentRecord {
  const author = authors[index % authors.length] as Identity
  const nth = Math.floor(index / authors.length)
  const random = prng(index * 7919 + 17)
  if (nth === 0) {
    const value = { displayName: phrase(random, 2), bio: phrase(random, 12) }
    return sign(author, formatRecordKey({ kind: 'profile', owner: author.did }), value, now)
  }
  const kind = KINDS[nth % KINDS.length] as RecordKind
  const value =
    kind === 'circle'
      ? { name: phrase(random, 3), description: phrase(random, 15) }
      : kind === 'conversation'
        ? { title: phrase(random, 5) }
        : { title: phrase(random, 4), text: phrase(random, 30) }
  return sign(author, formatRecordKey({ kind, owner: author.did, name: `${kind}-${nth}` }), value, now)
}

function sign(author: Identity, key: string, value: object, now: number): ContentRecord {
  return createRecord(author, {
    key,
    value: new TextEncoder().encode(JSON.stringify(value)),
    timestamp: now,
    public: true,
  })
}
