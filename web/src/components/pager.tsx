import { Group, Pagination, Text } from '@mantine/core';

export interface PageInfo {
  limit: number;
  offset: number;
  total: number;
}

/** Pages of an offset-paginated list (`pagination: { limit, offset, total }`): the range shown and a pager. */
export function Pager({ page, onOffset, noun }: { page: PageInfo | undefined; onOffset: (offset: number) => void; noun: string }) {
  if (!page) return null;
  const pages = Math.max(1, Math.ceil(page.total / page.limit));
  const current = Math.floor(page.offset / page.limit) + 1;
  const first = page.total === 0 ? 0 : page.offset + 1;
  const last = Math.min(page.total, page.offset + page.limit);
  return (
    <Group justify="space-between">
      <Text size="sm" c="dimmed" role="status">
        {first}–{last} of {page.total} {noun}
      </Text>
      {pages > 1 ? <Pagination size="sm" total={pages} value={current} onChange={(p) => onOffset((p - 1) * page.limit)} /> : null}
    </Group>
  );
}
