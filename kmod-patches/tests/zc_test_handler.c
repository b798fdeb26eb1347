// SPDX-License-Identifier: GPL-2.0
/*
 * zc_test_handler: a minimal TCMU handler (no tcmu-runner) that probes what a
 * buggy or hostile handler can do with the zero-copy window of a kmod-patches
 * target_core_user device. It serves a RAM disk of dev_size bytes to
 * whatever initiator sits in front of the device (tcm_loop) and prints one
 * "PASS: name" or "FAIL: name: reason" line per check on stdout.
 *
 *   [ZC_TEST_NODE=PATH] zc_test_handler NAME SIZE [stall|foreign|tlbgap]
 *
 * NAME: the backstore name (matched in /sys/class/uio/uioN/name, whose
 * format is tcm-user/<hba>/<name>/<subtype>/<path>); SIZE: its dev_size.
 *
 * Checks, before serving: mmap(MAP_PRIVATE) of the device is refused; a
 * forked child does not inherit the mapping (it dies of SIGSEGV touching
 * the mailbox). While serving: a store into the range of a no-GUP WRITE
 * (TCMU_KFLAG_ZC_NOGUP) raises SIGBUS and leaves the initiator's data
 * alone; every zero-copy READ's range holds zeroes before the handler fills
 * it. With "stall": the first zero-copy READ is faulted in, then held
 * past cmd_time_out; afterwards the slot's page must be a different page
 * (the sink, per /proc/self/pagemap), a marker is written into it, the
 * command is completed, and the slot must be unmapped.
 *
 * With "foreign": every zero-copy command's last page is faulted before
 * any other, under a SIGBUS guard. If the kernel refuses the fault (as it
 * must when an earlier page of the slot still maps the previous command's
 * page: zc_fault_skip_unmap, patch 15), the handler prints "SIGBUS lba=L
 * len=N", touches nothing else of the command and fails it (HARDWARE
 * ERROR). Faulting the last page first matters: a page whose stale PTE is
 * present never faults, so only a later page can make the kernel look.
 *
 * With "tlbgap" (D3): a thread on CPU 1 stores in a loop into the first
 * page of the zero-copy READ at 1 MiB (other READs, such as the partition
 * scan's, are served), while the main thread, on CPU 0, munmap()s the whole
 * device with /sys/kernel/debug/munmap_flush_delay_ms armed (patch 16): the
 * munmap clears the PTEs, unlinks the vma and waits before its last TLB
 * flush. The command times out meanwhile; the kernel must not complete it
 * (give the initiator its page back) while CPU 1 may still store through a
 * translation it kept. The handler prints "GAP ..." (tlb_gap_read()) and
 * exits.
 *
 * ZC_TEST_NODE: open the device through PATH, a second node of the same
 * character device (mknod), and check that /dev/uioN cannot be opened
 * meanwhile: the zap checks above then show that zaps reach a mapping made
 * through another node than the one udev names.

 *
 * The handler opts in to zero copy (zc_handler_caps) like tcmu-switch.
 * It runs until SIGTERM, then prints "DONE" with counters.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * The ring ABI of include/uapi/linux/target_core_user.h, restated: its
 * linux/uio.h clashes with glibc's struct iovec, and the zero-copy bits
 * are from the kmod-patches UAPI, not in the host's header.
 */
struct tcmu_mailbox {
	uint16_t version;
	uint16_t flags;
	uint32_t cmdr_off;
	uint32_t cmdr_size;
	uint32_t cmd_head;
	uint8_t zc[48];
	uint32_t cmd_tail __attribute__((__aligned__(64)));
} __attribute__((packed));

enum { TCMU_OP_PAD, TCMU_OP_CMD, TCMU_OP_TMR };
#define TCMU_OP_MASK 0x7
#define TCMU_UFLAG_UNKNOWN_OP 0x1
#define TCMU_SENSE_BUFFERSIZE 96

struct tcmu_cmd_entry {
	struct {
		uint32_t len_op;
		uint16_t cmd_id;
		uint8_t kflags;
		uint8_t uflags;
	} __attribute__((packed)) hdr;
	union {
		struct {
			uint32_t iov_cnt;
			uint32_t iov_bidi_cnt;
			uint32_t iov_dif_cnt;
			uint64_t cdb_off;
			uint64_t __pad1;
			uint64_t __pad2;
			struct iovec iov[];
		} req;
		struct {
			uint8_t scsi_status;
			uint8_t __pad1;
			uint16_t __pad2;
			uint32_t read_len;
			char sense_buffer[TCMU_SENSE_BUFFERSIZE];
		} rsp;
	};
} __attribute__((packed));

_Static_assert(__builtin_offsetof(struct tcmu_mailbox, cmd_tail) == 64, "cmd_tail at 64");

static uint32_t tcmu_hdr_get_op(uint32_t len_op) { return len_op & TCMU_OP_MASK; }
static uint32_t tcmu_hdr_get_len(uint32_t len_op) { return len_op & ~TCMU_OP_MASK; }

#define CAP_ZC (1 << 4)
#define KFLAG_ZC 0x1
#define KFLAG_ZC_NOGUP 0x4
#define MB_ZC_OFF 16
#define MB_ZC_SIZE 24
#define MB_HANDLER_CAPS 52
#define HANDLER_ZC (1u << 0)
#define HANDLER_NOGUP (1u << 1)

static char *map;
static size_t map_len;
static uint8_t *disk;
static uint64_t disk_len;
static int stall_first_read, fault_last_first, tlb_gap;
static volatile sig_atomic_t stop;
static sigjmp_buf bus_jmp;
static unsigned long nr_cmds, nr_zc, nr_nogup_writes, nr_sigbus, nr_zc_reads, nr_refused;
static int read_not_zeroed;

static void pass(const char *name) { printf("PASS: %s\n", name); fflush(stdout); }

static void fail(const char *name, const char *why)
{
	printf("FAIL: %s: %s\n", name, why);
	fflush(stdout);
}

static void on_term(int sig) { (void)sig; stop = 1; }
static void on_bus(int sig) { (void)sig; siglongjmp(bus_jmp, 1); }

static int read_sys(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* /dev/uioN of the backstore NAME; map size in *len */
static int find_uio(const char *name, char *dev, size_t devlen, size_t *len)
{
	char path[512], buf[512], want[300];
	struct dirent *d;
	DIR *dir = opendir("/sys/class/uio");
	int found = -1;

	if (!dir)
		return -1;
	snprintf(want, sizeof(want), "/%s/", name);
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "uio", 3))
			continue;
		snprintf(path, sizeof(path), "/sys/class/uio/%s/name", d->d_name);
		if (read_sys(path, buf, sizeof(buf)) || !strstr(buf, want))
			continue;
		snprintf(path, sizeof(path), "/sys/class/uio/%s/maps/map0/size",
			 d->d_name);
		if (read_sys(path, buf, sizeof(buf)))
			continue;
		*len = strtoull(buf, NULL, 0);
		snprintf(dev, devlen, "/dev/%s", d->d_name);
		found = 0;
		break;
	}
	closedir(dir);
	return found;
}

/* PFN of the page at p (0: not present), from /proc/self/pagemap */
static uint64_t pfn_of(const void *p)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e),
		  (off_t)((uintptr_t)p / 4096) * sizeof(e)) != sizeof(e))
		e = 0;
	close(fd);
	return (e >> 63) ? (e & ((1ULL << 55) - 1)) : 0;
}

static void check_mmap_private(int fd)
{
	void *p = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);

	if (p == MAP_FAILED && errno == EINVAL) {
		pass("mmap(MAP_PRIVATE) of a device with a zero-copy window is refused (EINVAL)");
		return;
	}
	fail("mmap(MAP_PRIVATE) of a device with a zero-copy window is refused",
	     p == MAP_FAILED ? strerror(errno) : "it succeeded");
	if (p != MAP_FAILED)
		munmap(p, map_len);
}

static void check_fork(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		volatile char c = map[0]; /* the mailbox */

		(void)c;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		fail("fork: child without the mapping", "fork/waitpid failed");
		return;
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
		pass("fork: the child does not inherit the mapping (SIGSEGV on the mailbox)");
	else
		fail("fork: the child does not inherit the mapping",
		     "the child read the mailbox");
}

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	while (n--) {
		p[n] = v & 0xff;
		v >>= 8;
	}
}

/* Copy between a command's iovecs (offsets from the map) and buf */
static void iov_xfer(struct tcmu_cmd_entry *ent, uint8_t *buf, size_t len,
		     int to_iov)
{
	uint32_t i;

	for (i = 0; i < ent->req.iov_cnt && len; i++) {
		char *p = map + (uintptr_t)ent->req.iov[i].iov_base;
		size_t n = ent->req.iov[i].iov_len < len ? ent->req.iov[i].iov_len : len;

		if (to_iov)
			memcpy(p, buf, n);
		else
			memcpy(buf, p, n);
		buf += n;
		len -= n;
	}
}

static uint8_t check_condition(struct tcmu_cmd_entry *ent, uint8_t key, uint8_t asc)
{
	uint8_t *s = (uint8_t *)ent->rsp.sense_buffer;

	memset(s, 0, TCMU_SENSE_BUFFERSIZE);
	s[0] = 0x70;
	s[2] = key;
	s[7] = 0x0a;
	s[12] = asc;
	return 0x02;	/* CHECK CONDITION */
}

/* ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE */
static uint8_t sense_illegal(struct tcmu_cmd_entry *ent) { return check_condition(ent, 0x05, 0x20); }

/* HARDWARE ERROR, INTERNAL TARGET FAILURE */
static uint8_t sense_target_failure(struct tcmu_cmd_entry *ent) { return check_condition(ent, 0x04, 0x44); }

/*
 * "foreign": fault the command's last page first; 0 if the kernel mapped
 * it, -1 if it refused with SIGBUS.
 */
static int fault_last_page(struct tcmu_cmd_entry *ent, uint64_t lba, uint64_t len)
{
	struct iovec iov = ent->req.iov[ent->req.iov_cnt - 1];
	volatile char *last = map + (uintptr_t)iov.iov_base + iov.iov_len - 1;

	if (sigsetjmp(bus_jmp, 1) == 0) {
		(void)*last;
		return 0;
	}
	nr_refused++;
	printf("SIGBUS lba=%" PRIu64 " len=%" PRIu64 "\n", lba, len);
	fflush(stdout);
	return -1;
}

/* A store into a no-GUP WRITE's range must raise SIGBUS */
static void probe_write_slot(struct tcmu_cmd_entry *ent)
{
	volatile char *p = map + (uintptr_t)ent->req.iov[0].iov_base;
	char before = p[0];

	nr_nogup_writes++;
	if (sigsetjmp(bus_jmp, 1) == 0) {
		p[0] = (char)~before;
		p[0] = before;
		if (nr_nogup_writes == 1)
			fail("a store into a no-GUP WRITE's range raises SIGBUS",
			     "the store went through (initiator's page writable)");
	} else {
		nr_sigbus++;
		if (nr_sigbus == 1)
			pass("a store into a no-GUP WRITE's range raises SIGBUS");
	}
}

/*
 * A zero-copy READ's range must hold zeroes before the handler fills it,
 * whatever the initiator's buffer or the page held before. Reported once:
 * PASS at the end if every one was, FAIL at the first that was not.
 */
static void check_read_zeroed(struct tcmu_cmd_entry *ent)
{
	const char *p = map + (uintptr_t)ent->req.iov[0].iov_base;
	size_t i;

	nr_zc_reads++;
	for (i = 0; i < ent->req.iov[0].iov_len; i++)
		if (p[i]) {
			if (!read_not_zeroed++)
				fail("every zero-copy READ's range holds zeroes when the handler gets it",
				     "a nonzero byte");
			return;
		}
}

/*
 * Hold the first zero-copy READ past cmd_time_out: its page must then be
 * another one (the sink), the marker must land there, and after the
 * completion the slot must be unmapped.
 */
static void stall_read(struct tcmu_cmd_entry *ent)
{
	char *p = map + (uintptr_t)ent->req.iov[0].iov_base;
	uint64_t before, parked;

	(void)*(volatile char *)p;	/* fault the command's pages in */
	before = pfn_of(p);
	sleep(4);		/* cmd_time_out is 1 s */
	memset(p, 0xee, 4096);	/* the marker: must not reach the initiator */
	parked = pfn_of(p);
	if (before && parked && parked != before)
		pass("stalled READ: after cmd_time_out its slot maps another page (the sink)");
	else
		fail("stalled READ: after cmd_time_out its slot maps another page",
		     before == parked ? "same page as before the timeout"
				      : "page not present");
	stall_first_read = 0;
}

#define GAP_DELAY_MS 10000	/* the munmap's wait before its TLB flush */
#define GAP_LBA 2048		/* the READ at 1 MiB */

static volatile uint64_t *gap_page;
static uint64_t gap_stores;	/* by the writer, read by the main thread */
static double gap_died;		/* when the writer got SIGSEGV */
static sigjmp_buf gap_segv_jmp;

static void on_segv(int sig) { (void)sig; siglongjmp(gap_segv_jmp, 1); }

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("sched_setaffinity");
}

/* Store into the page until the translation is gone (SIGSEGV) */
static void *gap_writer(void *arg)
{
	(void)arg;
	pin_to_cpu(1);
	if (sigsetjmp(gap_segv_jmp, 1) == 0)
		for (;;) {
			uint64_t n = __atomic_add_fetch(&gap_stores, 1, __ATOMIC_RELAXED);

			gap_page[n % 512] = n;
		}
	gap_died = now();
	return NULL;
}

static void arm_munmap_delay(unsigned int ms)
{
	FILE *f = fopen("/sys/kernel/debug/munmap_flush_delay_ms", "w");

	if (!f || fprintf(f, "%u\n", ms) < 0 || fclose(f)) {
		fail("tlbgap: munmap_flush_delay_ms armed", "cannot write it (debugfs, patch 16)");
		exit(1);
	}
}

/*
 * Prints "GAP munmap=S died=S before=N during=N": how long the munmap took,
 * when (since its start) the writer lost the page, and its stores before
 * the munmap and between its start and that moment.
 */
static void tlb_gap_read(struct tcmu_cmd_entry *ent)
{
	struct sigaction sa = { .sa_handler = on_segv, .sa_flags = SA_NODEFER };
	uint64_t before;
	pthread_t writer;
	double start, end;

	gap_page = (volatile uint64_t *)(map + (uintptr_t)ent->req.iov[0].iov_base);
	pin_to_cpu(0);
	sigaction(SIGSEGV, &sa, NULL);
	pthread_create(&writer, NULL, gap_writer, NULL);
	while (__atomic_load_n(&gap_stores, __ATOMIC_RELAXED) < 1000)
		sched_yield();
	arm_munmap_delay(GAP_DELAY_MS);
	before = __atomic_load_n(&gap_stores, __ATOMIC_RELAXED);
	start = now();
	munmap(map, map_len);
	end = now();
	pthread_join(writer, NULL);
	printf("GAP munmap=%.1f died=%.1f before=%" PRIu64 " during=%" PRIu64 "\n",
	       end - start, gap_died - start, before, gap_stores - before);
	fflush(stdout);
	exit(0);
}

static void check_unmapped_after(void *p)
{
	if (!pfn_of(p))
		pass("stalled READ: slot unmapped once the command completed");
	else
		fail("stalled READ: slot unmapped once the command completed",
		     "a page is still mapped");
}

static uint8_t handle(struct tcmu_cmd_entry *ent, void **stalled)
{
	uint8_t *cdb = (uint8_t *)map + ent->req.cdb_off;
	uint8_t buf[64] = { 0 };
	uint64_t lba, len;

	nr_cmds++;
	switch (cdb[0]) {
	case 0x00: /* TEST UNIT READY */
	case 0x35: /* SYNCHRONIZE CACHE */
		return 0;
	case 0x12: /* INQUIRY */
		if (cdb[1] & 1)
			return sense_illegal(ent);
		buf[2] = 0x05;
		buf[3] = 0x02;
		buf[4] = 31;
		memcpy(buf + 8, "TCMUTEST", 8);
		memcpy(buf + 16, "zc_test_handler ", 16);
		memcpy(buf + 32, "0001", 4);
		iov_xfer(ent, buf, be(cdb + 3, 2) < 36 ? be(cdb + 3, 2) : 36, 1);
		return 0;
	case 0x25: /* READ CAPACITY (10) */
		put_be(buf, disk_len / 512 - 1, 4);
		put_be(buf + 4, 512, 4);
		iov_xfer(ent, buf, 8, 1);
		return 0;
	case 0x9e: /* READ CAPACITY (16) */
		if ((cdb[1] & 0x1f) != 0x10)
			return sense_illegal(ent);
		put_be(buf, disk_len / 512 - 1, 8);
		put_be(buf + 8, 512, 4);
		iov_xfer(ent, buf, 32 < be(cdb + 10, 4) ? 32 : be(cdb + 10, 4), 1);
		return 0;
	case 0x1a: /* MODE SENSE (6) */
		buf[0] = 3;
		iov_xfer(ent, buf, 4 < cdb[4] ? 4 : cdb[4], 1);
		return 0;
	case 0x28: case 0x2a: case 0x88: case 0x8a:
		if (cdb[0] == 0x28 || cdb[0] == 0x2a) {
			lba = be(cdb + 2, 4);
			len = be(cdb + 7, 2) * 512;
		} else {
			lba = be(cdb + 2, 8);
			len = be(cdb + 10, 4) * 512;
		}
		if ((lba * 512 + len) > disk_len)
			return sense_illegal(ent);
		if (ent->hdr.kflags & KFLAG_ZC) {
			nr_zc++;
			if (fault_last_first && fault_last_page(ent, lba, len))
				return sense_target_failure(ent);
		}
		if (cdb[0] == 0x28 || cdb[0] == 0x88) {
			if (ent->hdr.kflags & KFLAG_ZC)
				check_read_zeroed(ent);
			if (tlb_gap && lba == GAP_LBA && (ent->hdr.kflags & KFLAG_ZC_NOGUP))
				tlb_gap_read(ent);
			if (stall_first_read && (ent->hdr.kflags & KFLAG_ZC)) {
				stall_read(ent);
				*stalled = map + (uintptr_t)ent->req.iov[0].iov_base;
				return 0;
			}
			iov_xfer(ent, disk + lba * 512, len, 1);
		} else {
			iov_xfer(ent, disk + lba * 512, len, 0);
			if (ent->hdr.kflags & KFLAG_ZC_NOGUP)
				probe_write_slot(ent);
		}
		return 0;
	default:
		return sense_illegal(ent);
	}
}

static void serve(int fd)
{
	struct tcmu_mailbox *mb = (struct tcmu_mailbox *)map;
	uint32_t irq;

	while (!stop) {
		void *stalled = NULL;

		if (read(fd, &irq, sizeof(irq)) != sizeof(irq)) {
			if (errno == EINTR)
				continue;
			break;
		}
		while (mb->cmd_tail != __atomic_load_n(&mb->cmd_head, __ATOMIC_ACQUIRE)) {
			struct tcmu_cmd_entry *ent =
				(void *)(map + mb->cmdr_off + mb->cmd_tail);
			uint32_t op = tcmu_hdr_get_op(ent->hdr.len_op);

			if (op == TCMU_OP_CMD)
				ent->rsp.scsi_status = handle(ent, &stalled);
			else if (op != TCMU_OP_PAD && op != TCMU_OP_TMR)
				ent->hdr.uflags |= TCMU_UFLAG_UNKNOWN_OP;
			__atomic_store_n(&mb->cmd_tail,
					 (mb->cmd_tail + tcmu_hdr_get_len(ent->hdr.len_op)) %
					 mb->cmdr_size, __ATOMIC_RELEASE);
		}
		irq = 0;
		if (write(fd, &irq, sizeof(irq)) != sizeof(irq))
			break;
		if (stalled)
			check_unmapped_after(stalled);
	}
}

/*
 * fd is the device opened through another node (ZC_TEST_NODE): it must be
 * the same character device, and dev must not open while fd's mapping
 * exists (the device has a single opener, and a vma keeps its file open).
 */
static void check_second_node(int fd, const char *dev)
{
	const char *name = "second node: the device node cannot open while another node maps it";
	struct stat a, b;
	int fd2;

	if (fstat(fd, &a) || stat(dev, &b) || a.st_rdev != b.st_rdev || a.st_ino == b.st_ino) {
		fail("second node: ZC_TEST_NODE is another inode of the same device", dev);
		return;
	}
	fd2 = open(dev, O_RDWR);
	if (fd2 >= 0) {
		close(fd2);
		fail(name, "open succeeded");
	} else if (errno != EBUSY) {
		fail(name, strerror(errno));
	} else {
		pass(name);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { 0 };
	char dev[300];
	const char *node;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: %s NAME SIZE [stall|foreign|tlbgap]\n", argv[0]);
		return 2;
	}
	disk_len = strtoull(argv[2], NULL, 0);
	stall_first_read = argc > 3 && !strcmp(argv[3], "stall");
	fault_last_first = argc > 3 && !strcmp(argv[3], "foreign");
	tlb_gap = argc > 3 && !strcmp(argv[3], "tlbgap");
	disk = calloc(1, disk_len);
	if (!disk || find_uio(argv[1], dev, sizeof(dev), &map_len)) {
		fprintf(stderr, "zc_test_handler: no uio device for %s\n", argv[1]);
		return 1;
	}
	node = getenv("ZC_TEST_NODE");
	if (!node)
		node = dev;
	fd = open(node, O_RDWR);
	if (fd < 0) {
		perror(node);
		return 1;
	}
	check_mmap_private(fd);
	map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (strcmp(node, dev))
		check_second_node(fd, dev);
	if (!(((struct tcmu_mailbox *)map)->flags & CAP_ZC)) {
		fail("the device offers a zero-copy window", "no TCMU_MAILBOX_FLAG_CAP_ZC");
		return 1;
	}
	check_fork();
	__atomic_store_n((uint32_t *)(map + MB_HANDLER_CAPS), HANDLER_ZC | HANDLER_NOGUP,
			 __ATOMIC_RELEASE);

	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_bus;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	printf("READY %s\n", dev);
	fflush(stdout);
	serve(fd);
	if (nr_zc_reads && !read_not_zeroed)
		pass("every zero-copy READ's range holds zeroes when the handler gets it");
	else if (!nr_zc_reads)
		fail("every zero-copy READ's range holds zeroes when the handler gets it",
		     "no zero-copy READ");
	printf("DONE cmds=%lu zc=%lu nogup_writes=%lu sigbus=%lu refused=%lu\n", nr_cmds,
	       nr_zc, nr_nogup_writes, nr_sigbus, nr_refused);
	return 0;
}
