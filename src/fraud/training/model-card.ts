import type { TrainingReport } from './train';

export function modelCard(report: TrainingReport, sha256: string): string {
  return `# stub\n${JSON.stringify(report, null, 2)}\n${sha256}\n`;
}
