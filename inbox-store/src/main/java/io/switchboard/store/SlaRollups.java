package io.switchboard.store;

import org.bson.Document;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * The SLA report's pre-aggregated figures, written by the router's SLA tracker and read by the
 * summary endpoint, so a summary reads a few documents by {@code _id} instead of scanning every
 * stopped clock and every conversation (the embedded store scans for anything but an exact key
 * match, ADR 0003; ADR 0132 records this design).
 *
 * <ul>
 *   <li>{@code slaRollups}: one document per UTC hour ({@code _id} {@code h:2026-03-09T01}) holding
 *       {@code m}, the stopped clocks of that hour as compact member strings keyed by outcome id,
 *       and {@code c}, per cell (metric, channel, and one of: nothing, priority, assignee, policy,
 *       account with its value) the count, breached, wall and business sums and two log-scaled
 *       histograms. Members and cells change together in one versioned write ({@code {_id, _v}}),
 *       so the cells are always the sum of the members: applying the same outcome twice changes
 *       nothing, whatever crashed in between.</li>
 *   <li>{@code slaOutcomes.rollupHours}: the hours an outcome may be counted in, widened before
 *       it moves to another hour and narrowed after, so a crash mid-move leaves nothing behind.</li>
 *   <li>{@code slaLive}: the unresolved conversations as compact strings in {@value #LIVE_SHARDS}
 *       shard documents, for the live figures and the backlog.</li>
 * </ul>
 */
public final class SlaRollups {

    public static final String ROLLUPS = "slaRollups";
    public static final String LIVE = "slaLive";
    public static final String OUTCOMES = "slaOutcomes";
    public static final String META_ID = "meta";
    public static final int LIVE_SHARDS = 64;
    /** Up to this many clocks in a range, figures come from the members, exactly. */
    public static final int DEFAULT_EXACT_LIMIT = 10_000;
    static final String VERSION = "_v";
    static final List<String> DIMENSIONS = List.of("priority", "assignee", "policy", "account");
    /** Cells are grouped by dimension ({@code c._} totals per metric and channel, {@code c.assignee}, ...) so a read projects only what it needs. */
    static final String TOTALS = "_";
    private static final DateTimeFormatter HOUR = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH").withZone(ZoneOffset.UTC);

    private final MongoTemplate mongo;
    private final int exactLimit;

    public SlaRollups(MongoTemplate mongo) {
        this(mongo, DEFAULT_EXACT_LIMIT);
    }

    public SlaRollups(MongoTemplate mongo, int exactLimit) {
        this.mongo = mongo;
        this.exactLimit = exactLimit;
        mongo.indexOps(ROLLUPS).createIndex(new Index().on("_id", org.springframework.data.domain.Sort.Direction.ASC)
                .on(VERSION, org.springframework.data.domain.Sort.Direction.ASC).unique().named("_id_v"));
    }

    // ------------------------------------------------------------------ histogram

    /** Values below 16 s have their own bucket; above, 8 buckets per doubling (ratio 2^(1/8)). */
    public static int bucket(long seconds) {
        if (seconds < 16) {
            return (int) Math.max(0, seconds);
        }
        int k = 16 + (int) Math.floor(8 * (Math.log(seconds / 16.0) / Math.log(2)));
        // guard floating point at the bounds
        while (k > 16 && lower(k) > seconds) {
            k--;
        }
        while (lower(k + 1) <= seconds) {
            k++;
        }
        return k;
    }

    static double lower(int k) {
        return k <= 16 ? k : 16 * Math.pow(2, (k - 16) / 8.0);
    }

    /**
     * The value a bucket stands for: the geometric middle of its bounds, within 2^(1/16) - 1 (4.4%)
     * of every value in it, plus rounding to whole seconds.
     */
    public static long representative(int k) {
        if (k < 16) {
            return k;
        }
        return Math.round(Math.sqrt(lower(k) * lower(k + 1)));
    }

    // ------------------------------------------------------------------ members

    /** One stopped clock as counted: what the rollups store per outcome. */
    public record Member(String metric, String channel, String priority, String assignee, String policy, String account,
                         long stoppedAtMs, long wallSeconds, long businessSeconds, boolean breached) {

        String encode() {
            return String.join("|", enc(metric), enc(channel), enc(priority), enc(assignee), enc(policy), enc(account),
                    Long.toString(stoppedAtMs), Long.toString(wallSeconds), Long.toString(businessSeconds), breached ? "1" : "0");
        }

        static Member decode(String s) {
            String[] p = s.split("\\|", -1);
            return new Member(dec(p[0]), dec(p[1]), dec(p[2]), dec(p[3]), dec(p[4]), dec(p[5]), Long.parseLong(p[6]),
                    Long.parseLong(p[7]), Long.parseLong(p[8]), "1".equals(p[9]));
        }

        String value(String dimension) {
            switch (dimension) {
                case "channel": return channel;
                case "priority": return priority;
                case "assignee": return assignee;
                case "policy": return policy;
                case "account": return account;
                default: return null;
            }
        }

        /** The member of a stored outcome document, or null if it is not a stopped clock. */
        public static Member of(Document outcome) {
            Object stopped = outcome.get("stoppedAt");
            if (!(stopped instanceof Date at) || outcome.getString("metric") == null) {
                return null;
            }
            return new Member(outcome.getString("metric"), outcome.getString("channel"), outcome.getString("priority"),
                    outcome.getString("assignee"), outcome.getString("policy"), outcome.getString("account"), at.getTime(),
                    number(outcome.get("wallSeconds")), number(outcome.get("businessSeconds")),
                    Boolean.TRUE.equals(outcome.get("breached")));
        }
    }

    /** Field names may hold neither dots nor a leading dollar; values may hold the separator. */
    static String enc(String s) {
        if (s == null || s.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length());
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '%': b.append("%25"); break;
                case '.': b.append("%2E"); break;
                case '$': b.append("%24"); break;
                case '|': b.append("%7C"); break;
                default: b.append(ch);
            }
        }
        return b.toString();
    }

    static String dec(String s) {
        if (s.isEmpty()) {
            return null;
        }
        if (s.indexOf('%') < 0) {
            return s;
        }
        return s.replace("%2E", ".").replace("%24", "$").replace("%7C", "|").replace("%25", "%");
    }

    static String hourId(Instant at) {
        return "h:" + HOUR.format(at);
    }

    static String hourId(long epochMs) {
        return hourId(Instant.ofEpochMilli(epochMs).truncatedTo(ChronoUnit.HOURS));
    }

    static Instant hourOf(String id) {
        return Instant.parse(id.substring(2) + ":00:00Z");
    }

    // ------------------------------------------------------------------ writes (router)

    /**
     * Stores a stopped clock's outcome ({@code slaOutcomes}, {@code _id} = conversation:metric:cycle)
     * and counts it in its hour, idempotently: nothing is written when the stored outcome already
     * says the same; a changed outcome (another hour, assignee or duration) is moved.
     */
    public void record(String outcomeId, Document outcome) {
        Member member = Member.of(outcome);
        Document previous = mongo.findById(outcomeId, Document.class, OUTCOMES);
        List<String> hours = previous == null ? List.of() : countedHours(previous);
        String hour = member == null ? null : hourId(member.stoppedAtMs());
        if (previous != null && sameFields(previous, outcome) && hours.equals(hour == null ? List.of() : List.of(hour))) {
            return;
        }
        Set<String> widened = new LinkedHashSet<>(hours);
        if (hour != null) {
            widened.add(hour);
        }
        Update update = new Update();
        outcome.forEach(update::set);
        update.set("rollupHours", new ArrayList<>(widened));
        try {
            mongo.upsert(Query.query(where("_id").is(outcomeId)), update, OUTCOMES);
        } catch (DuplicateKeyException raced) {
            mongo.updateFirst(Query.query(where("_id").is(outcomeId)), update, OUTCOMES);
        }
        if (hour != null) {
            change(hour, outcomeId, member.encode());
        }
        for (String h : hours) {
            if (!h.equals(hour)) {
                change(h, outcomeId, null);
            }
        }
        if (!widened.equals(new LinkedHashSet<>(hour == null ? List.of() : List.of(hour)))) {
            mongo.updateFirst(Query.query(where("_id").is(outcomeId)),
                    new Update().set("rollupHours", hour == null ? List.of() : List.of(hour)), OUTCOMES);
        }
    }

    /** Removes a stored outcome (a resolution clock running again after a reopen) and its counts. */
    public void retract(String outcomeId) {
        Document previous = mongo.findById(outcomeId, Document.class, OUTCOMES);
        if (previous == null) {
            return;
        }
        for (String h : countedHours(previous)) {
            change(h, outcomeId, null);
        }
        mongo.remove(Query.query(where("_id").is(outcomeId)), OUTCOMES);
    }

    private static boolean sameFields(Document stored, Document desired) {
        for (Map.Entry<String, Object> e : desired.entrySet()) {
            if (!Objects.equals(stored.get(e.getKey()), e.getValue())) {
                return false;
            }
        }
        return true;
    }

    /** Where an outcome is (or may be) counted: as recorded, or, for outcomes never moved, the hour it stopped in. */
    private static List<String> countedHours(Document outcome) {
        Object raw = outcome.get("rollupHours");
        if (raw instanceof List<?> list) {
            List<String> out = new ArrayList<>();
            list.forEach(h -> out.add(String.valueOf(h)));
            return out;
        }
        Member m = Member.of(outcome);
        return m == null ? List.of() : List.of(hourId(m.stoppedAtMs()));
    }

    /** Sets (or, for null, removes) one member of an hour and adjusts its cells, in one versioned write. */
    void change(String hourId, String outcomeId, String encoded) {
        String key = enc(outcomeId);
        for (int attempt = 0; attempt < 100; attempt++) {
            Query read = Query.query(where("_id").is(hourId));
            read.fields().include(VERSION).include("m." + key);
            Document current = mongo.findOne(read, Document.class, ROLLUPS);
            if (current == null) {
                if (encoded == null) {
                    return;
                }
                try {
                    mongo.insert(new Document("_id", hourId).append(VERSION, 0L).append("m", new Document()).append("c", new Document()),
                            ROLLUPS);
                } catch (DuplicateKeyException raced) {
                    // another writer created it
                }
                continue;
            }
            Object members = current.get("m");
            String old = members instanceof Document d ? d.getString(key) : null;
            if (Objects.equals(old, encoded)) {
                return;
            }
            Map<String, Long> inc = new LinkedHashMap<>();
            if (old != null) {
                contribute(Member.decode(old), -1, inc);
            }
            Update update = new Update();
            if (encoded != null) {
                contribute(Member.decode(encoded), 1, inc);
                update.set("m." + key, encoded);
            } else {
                update.unset("m." + key);
            }
            inc.forEach((path, delta) -> {
                if (delta != 0) {
                    update.inc(path, delta);
                }
            });
            update.inc(VERSION, 1L);
            long version = number(current.get(VERSION));
            if (mongo.updateFirst(Query.query(where("_id").is(hourId).and(VERSION).is(version)), update, ROLLUPS)
                    .getModifiedCount() > 0) {
                return;
            }
        }
        throw new IllegalStateException("SLA rollup " + hourId + " kept changing under 100 attempts to update it");
    }

    static String cellKey(String metric, String channel, String dimension, String value) {
        return enc(metric) + "|" + enc(channel) + "|" + dimension + "|" + enc(value);
    }

    private static void contribute(Member m, int sign, Map<String, Long> inc) {
        List<String> cells = new ArrayList<>();
        cells.add(TOTALS + "." + cellKey(m.metric(), m.channel(), "", null));
        for (String dim : DIMENSIONS) {
            cells.add(dim + "." + cellKey(m.metric(), m.channel(), dim, m.value(dim)));
        }
        for (String cell : cells) {
            String p = "c." + cell + ".";
            inc.merge(p + "n", (long) sign, Long::sum);
            inc.merge(p + "x", m.breached() ? sign : 0L, Long::sum);
            inc.merge(p + "w", sign * m.wallSeconds(), Long::sum);
            inc.merge(p + "b", sign * m.businessSeconds(), Long::sum);
            inc.merge(p + "hw." + bucket(m.wallSeconds()), (long) sign, Long::sum);
            inc.merge(p + "hb." + bucket(m.businessSeconds()), (long) sign, Long::sum);
        }
    }

    /**
     * The live record of one conversation: kept while it is unresolved and has a message, removed
     * otherwise. A plain set or unset by conversation id, so it converges under redelivery.
     */
    public void live(String conversationId, Document conversation, Instant nextDueAt) {
        LiveWrites writes = liveWrites();
        writes.live(conversationId, conversation, nextDueAt);
        writes.flush();
    }

    /** Live records of many conversations, written together by {@link LiveWrites#flush()}. */
    public LiveWrites liveWrites() {
        return new LiveWrites();
    }

    /**
     * Collects live records and writes each shard once, with all of its changes. Why: the embedded
     * store re-encodes a whole document on every update (to track the collection's size) and a shard
     * holds every 64th unresolved conversation, so one write per conversation cost a shard's size
     * per message; one per shard and batch costs it once per batch (ADR 0010).
     */
    public final class LiveWrites {
        /** Conversation id to its entry, "" to remove it; the last one given wins. */
        private final Map<String, String> pending = new LinkedHashMap<>();

        private LiveWrites() {
        }

        public void live(String conversationId, Document conversation, Instant nextDueAt) {
            String entry = conversation == null ? null : liveEntry(conversation, nextDueAt);
            String written = entry == null ? "" : entry;
            synchronized (lastLive) {
                if (written.equals(lastLive.get(conversationId)) && !pending.containsKey(conversationId)) {
                    return; // this instance wrote exactly this already (most recomputes change no live figure)
                }
            }
            pending.put(conversationId, written);
        }

        public void flush() {
            if (pending.isEmpty()) {
                return;
            }
            Map<String, Update> shards = new TreeMap<>();
            pending.forEach((conversationId, written) -> {
                Update update = shards.computeIfAbsent(shardOf(conversationId), k -> new Update());
                String field = "m." + enc(conversationId);
                if (written.isEmpty()) {
                    update.unset(field);
                } else {
                    update.set(field, written);
                }
            });
            var bulk = mongo.bulkOps(org.springframework.data.mongodb.core.BulkOperations.BulkMode.UNORDERED, LIVE);
            shards.forEach((shard, update) -> bulk.upsert(Query.query(where("_id").is(shard)), update));
            bulk.execute();
            // remembered only once stored: a failed write is retried with the batch and must not be skipped then
            synchronized (lastLive) {
                lastLive.putAll(pending);
            }
            pending.clear();
        }
    }

    /** The live entries this instance wrote last, most recent 20,000 conversations. */
    private final Map<String, String> lastLive = new java.util.LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > 20_000;
        }
    };

    static String shardOf(String conversationId) {
        return String.format("s%02d", Math.floorMod(conversationId.hashCode(), LIVE_SHARDS));
    }

    static String liveEntry(Document c, Instant nextDueAt) {
        String status = c.getString("status");
        if (Conversation.RESOLVED.equals(status) || c.get("lastMessageAt") == null) {
            return null;
        }
        Long since = millis(c.get("firstCustomerMessageAt"));
        if (since == null) {
            since = millis(c.get("createdAt"));
        }
        return String.join("|", enc(status), enc(c.getString("channel")), enc(c.getString("assignee")),
                str(millis(c.get("awaitingSince"))), str(nextDueAt == null ? null : nextDueAt.toEpochMilli()), str(since));
    }

    private static String str(Long v) {
        return v == null ? "" : Long.toString(v);
    }

    private static Long millis(Object v) {
        return v instanceof Date d ? d.getTime() : v instanceof Instant i ? i.toEpochMilli() : null;
    }

    static long number(Object v) {
        return v instanceof Number n ? n.longValue() : 0L;
    }

    // ------------------------------------------------------------------ reads (API)

    /** Sums and percentiles of one metric (and group) over a range. */
    public static final class Figures {
        long count;
        long breached;
        long wallSum;
        long businessSum;
        final TreeMap<Integer, Long> wallHistogram = new TreeMap<>();
        final TreeMap<Integer, Long> businessHistogram = new TreeMap<>();
        final List<Long> wall = new ArrayList<>();
        final List<Long> business = new ArrayList<>();
        boolean exact = true;

        void add(Member m) {
            count++;
            breached += m.breached() ? 1 : 0;
            wallSum += m.wallSeconds();
            businessSum += m.businessSeconds();
            wallHistogram.merge(bucket(m.wallSeconds()), 1L, Long::sum);
            businessHistogram.merge(bucket(m.businessSeconds()), 1L, Long::sum);
            wall.add(m.wallSeconds());
            business.add(m.businessSeconds());
        }

        void add(Document cell) {
            exact = false;
            count += number(cell.get("n"));
            breached += number(cell.get("x"));
            wallSum += number(cell.get("w"));
            businessSum += number(cell.get("b"));
            merge(wallHistogram, cell.get("hw"));
            merge(businessHistogram, cell.get("hb"));
        }

        private static void merge(TreeMap<Integer, Long> into, Object raw) {
            if (raw instanceof Document d) {
                d.forEach((k, v) -> {
                    long n = number(v);
                    if (n != 0) {
                        into.merge(Integer.parseInt(k), n, Long::sum);
                    }
                });
            }
        }

        public long count() {
            return count;
        }

        public long breached() {
            return breached;
        }

        /** True when every clock was read one by one: percentiles are then exact. */
        public boolean exact() {
            return exact;
        }

        public Double average(boolean businessTime) {
            return count == 0 ? null : (double) (businessTime ? businessSum : wallSum) / count;
        }

        /** Nearest-rank percentile in seconds; from the histogram (within 4.4%) when not exact. */
        public Long percentile(int p, boolean businessTime) {
            if (count == 0) {
                return null;
            }
            long rank = Math.max(1, (long) Math.ceil(p / 100.0 * count));
            if (exact) {
                List<Long> sorted = new ArrayList<>(businessTime ? business : wall);
                sorted.sort(null);
                return sorted.get((int) rank - 1);
            }
            long seen = 0;
            TreeMap<Integer, Long> histogram = businessTime ? businessHistogram : wallHistogram;
            for (Map.Entry<Integer, Long> e : histogram.entrySet()) {
                seen += e.getValue();
                if (seen >= rank) {
                    return representative(e.getKey());
                }
            }
            return histogram.isEmpty() ? null : representative(histogram.lastKey());
        }
    }

    /** What a range holds: totals per metric, groups per metric and key, counts per hour and metric. */
    public record Report(Map<String, Figures> totals, Map<String, Map<String, Figures>> groups,
                         TreeMap<Instant, Map<String, long[]>> hourly, int documentsRead) {
    }

    /** Grouping by the teams serving a clock's channel account: {@link #report(Instant, Instant, Collection, String, TeamsOf)}. */
    public static final String TEAM = "team";

    /** The teams serving a channel account (none: the clock is counted under the empty key). */
    @FunctionalInterface
    public interface TeamsOf {
        Collection<String> teams(String channel, String account);
    }

    /**
     * Figures for clocks stopped in [start, end), optionally only some channels, grouped by a
     * dimension (channel, priority, assignee, policy, account) or not. Whole hours come from the
     * cells, the partly covered hours at the edges from their members; when the range holds at most
     * the exact limit of clocks, everything comes from the members and percentiles are exact.
     */
    public Report report(Instant start, Instant end, Collection<String> channels, String groupBy) {
        return report(start, end, channels, groupBy, null);
    }

    /**
     * As {@link #report(Instant, Instant, Collection, String)}, also grouping by {@link #TEAM}: a team is a scope of
     * channels and accounts (the assignment settings), so its figures are those of the channel-account cells it
     * serves, and a clock served by several teams counts for each of them.
     *
     * @param teamsOf the teams serving a channel account; used when {@code groupBy} is {@link #TEAM}
     */
    public Report report(Instant start, Instant end, Collection<String> channels, String groupBy, TeamsOf teamsOf) {
        if (TEAM.equals(groupBy) && teamsOf == null) {
            throw new IllegalArgumentException("grouping by team needs the teams");
        }
        List<String> whole = new ArrayList<>();
        List<String> edges = new ArrayList<>();
        for (Instant h = start.truncatedTo(ChronoUnit.HOURS); h.isBefore(end); h = h.plus(Duration.ofHours(1))) {
            (!h.isBefore(start) && !h.plus(Duration.ofHours(1)).isAfter(end) ? whole : edges).add(hourId(h));
        }
        Set<String> wanted = channels == null ? Set.of() : Set.copyOf(channels);
        Report report = new Report(new LinkedHashMap<>(), new LinkedHashMap<>(), new TreeMap<>(), 0);
        List<String> fields = new ArrayList<>(List.of("c." + TOTALS));
        if (groupBy != null && DIMENSIONS.contains(groupBy)) {
            fields.add("c." + groupBy);
        } else if (TEAM.equals(groupBy)) {
            fields.add("c.account"); // the account cells are per metric, channel and account: a team's scope is made of them
        }
        List<Document> cells = whole.isEmpty() ? List.of() : find(whole, fields.toArray(String[]::new));
        long total = 0;
        for (Document d : cells) {
            if (d.get("c") instanceof Document all && all.get(TOTALS) instanceof Document c) {
                for (Map.Entry<String, Object> e : c.entrySet()) {
                    String[] k = e.getKey().split("\\|", -1);
                    if (k[2].isEmpty() && (wanted.isEmpty() || wanted.contains(dec(k[1]))) && e.getValue() instanceof Document cell) {
                        total += number(cell.get("n"));
                    }
                }
            }
        }
        int read = cells.size();
        List<String> byMember = new ArrayList<>(edges);
        if (total <= exactLimit) {
            byMember.addAll(whole);
        } else {
            for (Document d : cells) {
                foldCells(report, hourOf(d.getString("_id")), d.get("c"), wanted, groupBy, teamsOf);
            }
        }
        if (!byMember.isEmpty()) {
            for (Document d : find(byMember, "m")) {
                read++;
                if (d.get("m") instanceof Document members) {
                    for (Object raw : members.values()) {
                        Member m = Member.decode(String.valueOf(raw));
                        if (m.stoppedAtMs() >= start.toEpochMilli() && m.stoppedAtMs() < end.toEpochMilli()
                                && (wanted.isEmpty() || wanted.contains(m.channel()))) {
                            foldMember(report, m, groupBy, teamsOf);
                        }
                    }
                }
            }
        }
        return new Report(report.totals(), report.groups(), report.hourly(), read);
    }

    private List<Document> find(List<String> ids, String... fields) {
        Document projection = new Document();
        for (String f : fields) {
            projection.append(f, 1);
        }
        // in batches: the embedded store answers a find in one reply unless told otherwise (48 MB at most)
        return mongo.getCollection(ROLLUPS).find(new Document("_id", new Document("$in", ids)))
                .projection(projection).batchSize(BATCH).into(new ArrayList<>());
    }

    /** Documents per reply when reading many: hour documents are tens of kilobytes. */
    private static final int BATCH = 64;

    private static void foldMember(Report r, Member m, String groupBy, TeamsOf teamsOf) {
        r.totals().computeIfAbsent(m.metric(), k -> new Figures()).add(m);
        long[] hour = r.hourly().computeIfAbsent(Instant.ofEpochMilli(m.stoppedAtMs()).truncatedTo(ChronoUnit.HOURS),
                k -> new HashMap<>()).computeIfAbsent(m.metric(), k -> new long[2]);
        hour[0]++;
        hour[1] += m.breached() ? 1 : 0;
        if (TEAM.equals(groupBy)) {
            for (String team : teamKeys(teamsOf, m.channel(), m.account())) {
                r.groups().computeIfAbsent(m.metric(), k -> new TreeMap<>()).computeIfAbsent(team, k -> new Figures()).add(m);
            }
        } else if (groupBy != null) {
            String key = m.value(groupBy);
            r.groups().computeIfAbsent(m.metric(), k -> new TreeMap<>()).computeIfAbsent(key == null ? "" : key, k -> new Figures()).add(m);
        }
    }

    /** The group keys of a channel account when grouping by team: its teams, or the empty key when none serves it. */
    private static Collection<String> teamKeys(TeamsOf teamsOf, String channel, String account) {
        Collection<String> teams = teamsOf.teams(channel, account);
        return teams == null || teams.isEmpty() ? List.of("") : new java.util.LinkedHashSet<>(teams);
    }

    private static void foldCells(Report r, Instant hour, Object raw, Set<String> wanted, String groupBy, TeamsOf teamsOf) {
        if (!(raw instanceof Document byDimension)) {
            return;
        }
        for (Object dimensionCells : byDimension.values()) {
            if (dimensionCells instanceof Document c) {
                foldCells(r, hour, c, wanted, groupBy, teamsOf);
            }
        }
    }

    private static void foldCells(Report r, Instant hour, Document c, Set<String> wanted, String groupBy, TeamsOf teamsOf) {
        for (Map.Entry<String, Object> e : c.entrySet()) {
            if (!(e.getValue() instanceof Document cell) || number(cell.get("n")) == 0) {
                continue;
            }
            String[] k = e.getKey().split("\\|", -1);
            String metric = dec(k[0]);
            String channel = dec(k[1]);
            String dimension = k[2];
            if (!wanted.isEmpty() && !wanted.contains(channel)) {
                continue;
            }
            if (dimension.isEmpty()) {
                r.totals().computeIfAbsent(metric, x -> new Figures()).add(cell);
                long[] counts = r.hourly().computeIfAbsent(hour, x -> new HashMap<>()).computeIfAbsent(metric, x -> new long[2]);
                counts[0] += number(cell.get("n"));
                counts[1] += number(cell.get("x"));
                if ("channel".equals(groupBy)) {
                    r.groups().computeIfAbsent(metric, x -> new TreeMap<>()).computeIfAbsent(channel == null ? "" : channel,
                            x -> new Figures()).add(cell);
                }
            } else if (dimension.equals(groupBy)) {
                String value = dec(k[3]);
                r.groups().computeIfAbsent(metric, x -> new TreeMap<>()).computeIfAbsent(value == null ? "" : value,
                        x -> new Figures()).add(cell);
            } else if (TEAM.equals(groupBy) && dimension.equals("account")) {
                for (String team : teamKeys(teamsOf, channel, dec(k[3]))) {
                    r.groups().computeIfAbsent(metric, x -> new TreeMap<>()).computeIfAbsent(team, x -> new Figures()).add(cell);
                }
            }
        }
    }

    /** One unresolved conversation as the live figures need it. */
    public record LiveEntry(String id, String status, String channel, String assignee, Instant awaitingSince,
                            Instant nextDueAt, Instant since) {
    }

    /** Every unresolved conversation with a message, from the live shards. */
    public List<LiveEntry> live() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < LIVE_SHARDS; i++) {
            ids.add(String.format("s%02d", i));
        }
        List<LiveEntry> out = new ArrayList<>();
        for (Document shard : mongo.getCollection(LIVE).find(new Document("_id", new Document("$in", ids))).batchSize(16)) {
            if (shard.get("m") instanceof Document members) {
                members.forEach((key, raw) -> {
                    String[] p = String.valueOf(raw).split("\\|", -1);
                    out.add(new LiveEntry(dec(key), dec(p[0]), dec(p[1]), dec(p[2]), at(p[3]), at(p[4]), at(p[5])));
                });
            }
        }
        return out;
    }

    private static Instant at(String ms) {
        return ms.isEmpty() ? null : Instant.ofEpochMilli(Long.parseLong(ms));
    }

    // ------------------------------------------------------------------ rebuild

    /** True once the rollups were built (by {@link #rebuild}) or are being kept by a tracker that found them built. */
    public boolean built() {
        return mongo.findById(META_ID, Document.class, ROLLUPS) != null;
    }

    /**
     * Recomputes every rollup from the stored outcomes and conversations (for data stored before
     * the rollups existed, or a repair). Writes racing with it (a clock stopping meanwhile) may be
     * lost until that outcome changes again: run it when the router is idle; the router runs it
     * by itself at startup when no rollups exist.
     *
     * @return {outcomes counted, unresolved conversations counted, hour documents written}
     */
    public long[] rebuild(Instant at) {
        for (int attempt = 1; ; attempt++) {
            try {
                return rebuildOnce(at);
            } catch (com.mongodb.MongoException | org.springframework.dao.DataAccessException e) {
                // the H2 backend sometimes fails a long scan running while it rewrites its file ("Chunk n not found"):
                // everything here is computed again from the start, so trying again is safe
                if (attempt == 10) {
                    throw e;
                }
                try {
                    Thread.sleep(2000L);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private long[] rebuildOnce(Instant at) {
        Map<String, Document> hours = new TreeMap<>();
        long outcomes = 0;
        Document outcomeFields = new Document();
        for (String f : List.of("metric", "channel", "priority", "assignee", "policy", "account", "stoppedAt", "wallSeconds",
                "businessSeconds", "breached")) {
            outcomeFields.append(f, 1);
        }
        for (Document o : mongo.getCollection(OUTCOMES).find().projection(outcomeFields).batchSize(5000)) {
            Member m = Member.of(o);
            if (m == null) {
                continue;
            }
            outcomes++;
            Document hour = hours.computeIfAbsent(hourId(m.stoppedAtMs()), id -> new Document("_id", id).append("m", new Document())
                    .append("c", new Document()));
            hour.get("m", Document.class).put(enc(o.getString("_id")), m.encode());
            Map<String, Long> inc = new LinkedHashMap<>();
            contribute(m, 1, inc);
            Document c = hour.get("c", Document.class);
            inc.forEach((path, delta) -> {
                String[] p = path.substring(2).split("\\.");
                Document node = c;
                for (int i = 0; i < p.length - 1; i++) {
                    node = (Document) node.computeIfAbsent(p[i], x -> new Document());
                }
                node.merge(p[p.length - 1], delta, (a, b) -> (Long) a + (Long) b);
            });
        }
        List<Object> existing = new ArrayList<>();
        for (Document d : mongo.getCollection(ROLLUPS).find().projection(new Document("_id", 1)).batchSize(5000)) {
            existing.add(d.get("_id"));
        }
        for (Document hour : hours.values()) {
            Document stored = mongo.findById(hour.getString("_id"), Document.class, ROLLUPS);
            hour.append(VERSION, stored == null ? 0L : number(stored.get(VERSION)) + 1);
            mongo.getCollection(ROLLUPS).replaceOne(new Document("_id", hour.getString("_id")), hour,
                    new com.mongodb.client.model.ReplaceOptions().upsert(true));
        }
        for (Object id : existing) {
            if (!hours.containsKey(String.valueOf(id)) && !META_ID.equals(id)) {
                mongo.remove(Query.query(where("_id").is(id)), ROLLUPS);
            }
        }
        Map<String, Document> shards = new TreeMap<>();
        for (int i = 0; i < LIVE_SHARDS; i++) {
            String id = String.format("s%02d", i);
            shards.put(id, new Document());
        }
        long live = 0;
        Document conversationFields = new Document();
        for (String f : List.of("status", "channel", "assignee", "awaitingSince", "firstCustomerMessageAt", "createdAt",
                "lastMessageAt", "sla.nextDueAt")) {
            conversationFields.append(f, 1);
        }
        for (Document c : mongo.getCollection(Conversation.COLLECTION).find(new Document("status", new Document("$ne", Conversation.RESOLVED)))
                .projection(conversationFields).batchSize(5000)) {
            Object sla = c.get("sla");
            Object due = sla instanceof Document s ? s.get("nextDueAt") : null;
            String entry = liveEntry(c, due instanceof Date d ? d.toInstant() : null);
            if (entry != null) {
                live++;
                shards.get(shardOf(c.getString("_id"))).put(enc(c.getString("_id")), entry);
            }
        }
        for (Map.Entry<String, Document> shard : shards.entrySet()) {
            mongo.getCollection(LIVE).replaceOne(new Document("_id", shard.getKey()),
                    new Document("_id", shard.getKey()).append("m", shard.getValue()),
                    new com.mongodb.client.model.ReplaceOptions().upsert(true));
        }
        mongo.getCollection(ROLLUPS).replaceOne(new Document("_id", META_ID),
                new Document("_id", META_ID).append("rebuiltAt", Date.from(at)).append("outcomes", outcomes).append("live", live),
                new com.mongodb.client.model.ReplaceOptions().upsert(true));
        return new long[]{outcomes, live, hours.size()};
    }
}
