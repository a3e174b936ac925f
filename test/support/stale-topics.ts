/**
 * Topics left on the shared broker by earlier test runs. Test topics carry the creating process's pid
 * (uniqueName: `<prefix>-<pid>-<6 hex>`, sometimes with `_` for `-`); a topic whose process is gone is
 * stale. Hundreds of them make the broker slow to answer metadata requests and, past about a
 * thousand, make topic creation fail, so the global setup deletes them.
 */
const TEST_TOPIC = /[-_](\d+)[-_][0-9a-f]{6}(?:$|[._-])/;

/** The pid embedded in a test topic's name, or null for topics not made by tests. */
export function testTopicPid(topic: string): number | null {
	const m = TEST_TOPIC.exec(topic);
	return m ? Number(m[1]) : null;
}

export function staleTestTopics(topics: string[], alive: (pid: number) => boolean): string[] {
	return topics.filter(topic => {
		const pid = testTopicPid(topic);
		return pid !== null && !alive(pid);
	});
}

export function processAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (err) {
		return (err as NodeJS.ErrnoException).code === "EPERM";
	}
}
