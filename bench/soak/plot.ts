/**
 * The soak's plot: three panels over the run's minutes (memory, open
 * sockets, p99 latency), one line per series of `SERIES`, drawn as SVG by
 * hand and photographed to PNG by the headless Chromium the browser tests
 * use (`client/test/chromium.ts`: the system's, or `@sparticuz/chromium`),
 * so the plot needs no charting or image package.
 */
import { writeFileSync } from 'node:fs'
import { launchChromium } from '../../client/test/chromium.ts'
import { type Sample, SERIES, type Series } from './minute-sample.ts'

const WIDTH = 1000
const PANEL_HEIGHT = 270
const MARGIN = { left: 80, right: 30, top: 50, bottom: 45 }
const COLORS = ['#1f6fb4', '#d1495b', '#2a9d4b', '#8a5cc2']
/** Width of a legend's text per character, about, at its font size. */
const LEGEND_CHAR_PX = 7.5
const TITLES: Record<Series['panel'], string> = {
  memory: 'Memory (resident set, MiB)',
  sockets: 'Open sockets',
  latency: 'p99 latency, per minute (ms)',
}

/** A round step giving about `parts` ticks up to `max`. */
function niceStep(max: number, parts: number): number {
  const raw = Math.max(max, 1e-9) / parts
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].find((m) => m * power >= raw) ?? 10
  return step * power
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')

/** One panel's SVG group, its top at `top`. */
function panel(kind: Series['panel'], samples: readonly Sample[], top: number): string {
  const series = SERIES.filter((s) => s.panel === kind)
  const lastMinute = Math.max(1, ...samples.map((s) => s.minute))
  const values = series.flatMap((s) => samples.map(s.value)).filter((v): v is number => v !== null)
  const yStep = niceStep(Math.max(1, ...values), 5)
  const yMax = Math.max(yStep, Math.ceil(Math.max(1, ...values) / yStep) * yStep)
  const plotW = WIDTH - MARGIN.left - MARGIN.right
  const plotH = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom
  const x = (minute: number) => MARGIN.left + (minute / lastMinute) * plotW
  const y = (v: number) => top + MARGIN.top + plotH - (v / yMax) * plotH
  const parts: string[] = [
    `<text x="${MARGIN.left}" y="${top + 24}" class="title">${TITLES[kind]}</text>`,
    `<rect x="${MARGIN.left}" y="${top + MARGIN.top}" width="${plotW}" height="${plotH}" class="frame"/>`,
  ]
  for (let i = 0; i * yStep <= yMax; i++) {
    const v = i * yStep
    const label = (+v.toFixed(6)).toLocaleString('en-US')
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(v)}" y2="${y(v)}" class="grid"/>`)
    parts.push(`<text x="${MARGIN.left - 8}" y="${y(v) + 4}" class="tick" text-anchor="end">${label}</text>`)
  }
  const xStep = Math.max(1, niceStep(lastMinute, 10))
  for (let m = 0; m <= lastMinute; m += xStep) {
    const bottom = top + MARGIN.top + plotH
    parts.push(`<text x="${x(m)}" y="${bottom + 18}" class="tick" text-anchor="middle">${m}</text>`)
  }
  parts.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${top + PANEL_HEIGHT - 4}" class="tick" text-anchor="middle">minute</text>`,
  )
  // Legends after the title, one after another, each as wide as its text.
  let legendX = MARGIN.left + TITLES[kind].length * 9 + 30
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]
    // A missing value (no samples that minute) breaks the line rather than bridging it.
    const runs: string[][] = [[]]
    for (const sample of samples) {
      const v = s.value(sample)
      if (v === null) runs.push([])
      else runs.at(-1)?.push(`${x(sample.minute).toFixed(1)},${y(v).toFixed(1)}`)
    }
    for (const run of runs.filter((r) => r.length > 0)) {
      parts.push(`<polyline points="${run.join(' ')}" stroke="${color}" class="line"/>`)
      for (const point of run) {
        const [cx, cy] = point.split(',')
        parts.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${color}"/>`)
      }
    }
    const lx = legendX
    parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${top + 20}" y2="${top + 20}" stroke="${color}" class="line"/>`)
    parts.push(`<text x="${lx + 30}" y="${top + 24}" class="legend">${esc(s.label)}</text>`)
    legendX += 30 + s.label.length * LEGEND_CHAR_PX + 24
  })
  return parts.join('\n')
}

/** The plot as an SVG document. */
export function plotSvg(samples: readonly Sample[], caption: string): string {
  const kinds: Series['panel'][] = ['memory', 'sockets', 'latency']
  const height = kinds.length * PANEL_HEIGHT + 40
  const body = kinds.map((kind, i) => panel(kind, samples, 30 + i * PANEL_HEIGHT)).join('\n')
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">`,
    '<style>',
    'text { font-family: "DejaVu Sans", Arial, sans-serif; fill: #222 }',
    '.title { font-size: 16px; font-weight: bold } .tick { font-size: 12px; fill: #555 } .legend { font-size: 13px }',
    '.frame { fill: none; stroke: #999 } .grid { stroke: #e4e4e4 } .line { fill: none; stroke-width: 2 }',
    '</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${MARGIN.left}" y="20" class="tick">${esc(caption)}</text>`,
    body,
    '</svg>',
  ].join('\n')
}

/** Draws the plot and writes it to `pngPath` as a PNG. */
export async function writePlot(samples: readonly Sample[], caption: string, pngPath: string): Promise<void> {
  const svg = plotSvg(samples, caption)
  const browser = await launchChromium()
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH, height: 400 }, deviceScaleFactor: 1 })
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`)
    writeFileSync(pngPath, await page.locator('svg').screenshot({ type: 'png' }))
  } finally {
    await browser.close()
  }
}
