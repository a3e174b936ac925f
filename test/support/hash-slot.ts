/**
 * The Redis Cluster hash slot of a key (CRC16-XMODEM of the key or of its hash tag, mod 16384), as the
 * Redis Cluster specification defines it: written here so tests can check key layouts without a cluster.
 */
function crc16(data: Buffer): number {
	let crc = 0;
	for (const byte of data) {
		crc ^= byte << 8;
		for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
	}
	return crc;
}

export function hashSlot(key: string): number {
	const open = key.indexOf("{");
	if (open >= 0) {
		const close = key.indexOf("}", open + 1);
		if (close > open + 1) key = key.slice(open + 1, close);
	}
	return crc16(Buffer.from(key, "utf8")) % 16384;
}
