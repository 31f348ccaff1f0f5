// The file formats shared by `gapbench capacity` (writer) and the break-even (reader):
// one list each, so a column added on one side cannot silently drift from the other.
export const CAPACITY_COLUMNS = [
  'run_id',
  'model',
  'side',
  'step',
  'concurrency',
  'rate_rps',
  'duration_s',
  'requests',
  'requests_per_s',
  'output_tokens_per_s',
  'ttft_p50_ms',
  'ttft_p95_ms',
  'itl_p50_ms',
  'itl_p95_ms',
  'e2e_p50_ms',
  'e2e_p95_ms',
  'errors',
  'cold_starts',
  'meets_slo',
  'note',
] as const;

export const GOODPUT_COLUMNS = [
  'run_id',
  'model',
  'slo',
  'goodput_requests_per_s',
  'goodput_output_tokens_per_s',
  'goodput_concurrency',
  'goodput_ttft_p95_ms',
  'goodput_e2e_p95_ms',
  'saturation_requests_per_s',
  'saturation_output_tokens_per_s',
  'saturation_concurrency',
  'note',
] as const;
