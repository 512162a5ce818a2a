package io.switchboard.store;

import org.bson.Document;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.data.mongodb.core.query.Criteria.where;

/** The SLA rollups: counted once, moved when an outcome changes, exact or within the histogram's bound. */
class SlaRollupsTest {

    @RegisterExtension
    static final EmbeddedMongo MONGO = new EmbeddedMongo();
    MongoTemplate mongo;
    SlaRollups exact;
    SlaRollups approximate;
    static final Instant DAY = Instant.parse("2026-03-09T00:00:00Z");
    static final Instant NEXT_DAY = Instant.parse("2026-03-10T00:00:00Z");

    @BeforeEach
    void fresh() {
        mongo = MONGO.database("rollups-test-");
        exact = new SlaRollups(mongo);
        approximate = new SlaRollups(mongo, 0); // whole hours always from the cells
    }

    static Document outcome(String metric, String channel, String assignee, String stoppedAt, long wall, boolean breached) {
        return new Document("metric", metric).append("channel", channel).append("priority", "normal").append("assignee", assignee)
                .append("policy", "default").append("account", "default").append("stoppedAt", Date.from(Instant.parse(stoppedAt)))
                .append("wallSeconds", wall).append("businessSeconds", wall / 2).append("breached", breached).append("met", !breached);
    }

    @Test
    void anOutcomeRecordedTwiceIsCountedOnce_cellsAndMembersAgree() {
        Document o = outcome("firstResponse", "telegram", "alice", "2026-03-09T10:15:00Z", 120, false);
        exact.record("c1:firstResponse:1", o);
        exact.record("c1:firstResponse:1", new Document(o));
        exact.record("c2:firstResponse:1", outcome("firstResponse", "telegram", null, "2026-03-09T10:20:00Z", 600, true));
        for (SlaRollups r : List.of(exact, approximate)) {
            SlaRollups.Report report = r.report(DAY, NEXT_DAY, List.of(), "assignee");
            SlaRollups.Figures first = report.totals().get("firstResponse");
            assertThat(first.count()).isEqualTo(2);
            assertThat(first.breached()).isEqualTo(1);
            assertThat(first.average(false)).isEqualTo(360.0);
            assertThat(first.exact()).isEqualTo(r == exact);
            assertThat(report.groups().get("firstResponse")).containsOnlyKeys("", "alice");
        }
        Document hour = mongo.findById("h:2026-03-09T10", Document.class, SlaRollups.ROLLUPS);
        assertThat(hour.get("m", Document.class)).hasSize(2);
        assertThat(hour.get(SlaRollups.VERSION)).isEqualTo(2L); // the repeated record wrote nothing
    }

    @Test
    void aChangedOutcomeMovesToItsNewHourAndGroup_aRetractedOneIsGone() {
        exact.record("c1:resolution:1", outcome("resolution", "email", "alice", "2026-03-09T10:15:00Z", 3600, false));
        exact.record("c1:resolution:1", outcome("resolution", "email", "bob", "2026-03-09T15:40:00Z", 7200, true));
        SlaRollups.Report report = approximate.report(DAY, NEXT_DAY, List.of(), "assignee");
        assertThat(report.totals().get("resolution").count()).isEqualTo(1);
        assertThat(report.groups().get("resolution")).containsOnlyKeys("bob");
        assertThat(report.hourly()).containsOnlyKeys(Instant.parse("2026-03-09T15:00:00Z"));
        assertThat(mongo.findById("c1:resolution:1", Document.class, SlaRollups.OUTCOMES).get("rollupHours"))
                .isEqualTo(List.of("h:2026-03-09T15"));

        exact.retract("c1:resolution:1");
        assertThat(approximate.report(DAY, NEXT_DAY, List.of(), null).totals()).isEmpty();
        assertThat(mongo.findById("c1:resolution:1", Document.class, SlaRollups.OUTCOMES)).isNull();
    }

    @Test
    void aMoveInterruptedHalfwayIsFinishedByTheNextRecord() {
        Document o = outcome("firstResponse", "vk", null, "2026-03-09T11:00:00Z", 60, false);
        exact.record("c1:firstResponse:1", o);
        // crashed while moving to 13:00: widened, counted in the new hour, not yet removed from the old one
        Document moved = outcome("firstResponse", "vk", null, "2026-03-09T13:05:00Z", 300, false);
        mongo.updateFirst(Query.query(where("_id").is("c1:firstResponse:1")), new Update()
                .set("stoppedAt", moved.get("stoppedAt")).set("wallSeconds", 300L).set("businessSeconds", 150L)
                .set("rollupHours", List.of("h:2026-03-09T11", "h:2026-03-09T13")), SlaRollups.OUTCOMES);
        exact.change("h:2026-03-09T13", "c1:firstResponse:1", SlaRollups.Member.of(moved).encode());
        assertThat(approximate.report(DAY, NEXT_DAY, List.of(), null).totals().get("firstResponse").count()).isEqualTo(2);

        exact.record("c1:firstResponse:1", moved); // the redelivered event
        SlaRollups.Figures f = approximate.report(DAY, NEXT_DAY, List.of(), null).totals().get("firstResponse");
        assertThat(f.count()).isEqualTo(1);
        assertThat(f.average(false)).isEqualTo(300.0);
    }

    @Test
    void everyValueIsWithinTheBucketBoundOfItsRepresentative() {
        for (long v = 0; v < 10_000_000; v = v < 100 ? v + 1 : v + v / 97) {
            long r = SlaRollups.representative(SlaRollups.bucket(v));
            assertThat((double) Math.abs(r - v)).as("value %d, representative %d", v, r).isLessThanOrEqualTo(0.0443 * v + 0.5);
            assertThat(SlaRollups.bucket(v)).isLessThanOrEqualTo(SlaRollups.bucket(v + 1));
        }
    }

    @Test
    void histogramPercentilesStayWithinTheBound_countsSumsAndRangeEdgesAreExact() {
        Random random = new Random(7);
        List<Long> wall = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            long w = (long) Math.exp(random.nextDouble() * 11); // 1 s to ~16 h, log-uniform
            Instant at = DAY.plusSeconds(random.nextInt(24 * 3600));
            exact.record("c" + i + ":nextResponse:" + i, outcome("nextResponse", i % 3 == 0 ? "email" : "telegram", "a" + (i % 5),
                    at.toString(), w, w > 3600));
        }
        Instant from = Instant.parse("2026-03-09T05:30:00Z");
        Instant to = Instant.parse("2026-03-09T20:45:10Z");
        SlaRollups.Figures e = exact.report(from, to, List.of("telegram"), null).totals().get("nextResponse");
        SlaRollups.Figures a = approximate.report(from, to, List.of("telegram"), null).totals().get("nextResponse");
        assertThat(e.exact()).isTrue();
        assertThat(a.exact()).isFalse();
        assertThat(a.count()).isEqualTo(e.count()).isGreaterThan(100);
        assertThat(a.breached()).isEqualTo(e.breached());
        assertThat(a.average(false)).isEqualTo(e.average(false));
        assertThat(a.average(true)).isEqualTo(e.average(true));
        for (int p : new int[]{50, 90}) {
            for (boolean business : new boolean[]{false, true}) {
                long x = e.percentile(p, business);
                assertThat((double) Math.abs(a.percentile(p, business) - x)).isLessThanOrEqualTo(0.0443 * x + 0.5);
            }
        }
    }

    @Test
    void aRebuildFromTheStoredOutcomesGivesTheSameFigures_andTheLiveEntries() {
        exact.record("c1:firstResponse:1", outcome("firstResponse", "telegram", "alice", "2026-03-09T10:15:00Z", 120, false));
        exact.record("c2:firstResponse:1", outcome("firstResponse", "email", null, "2026-03-09T12:15:00Z", 900, true));
        Document c3 = new Document("_id", "c3").append("status", "open").append("channel", "vk").append("assignee", "bob")
                .append("lastMessageAt", Date.from(DAY)).append("firstCustomerMessageAt", Date.from(DAY))
                .append("awaitingSince", Date.from(DAY)).append("sla", new Document("nextDueAt", Date.from(NEXT_DAY)));
        mongo.insert(c3, Conversation.COLLECTION);
        mongo.insert(new Document("_id", "c4").append("status", "resolved").append("lastMessageAt", Date.from(DAY)), Conversation.COLLECTION);
        exact.live("c3", c3, NEXT_DAY);
        List<SlaRollups.LiveEntry> before = exact.live();
        SlaRollups.Figures incremental = approximate.report(DAY, NEXT_DAY, List.of(), null).totals().get("firstResponse");

        mongo.dropCollection(SlaRollups.ROLLUPS);
        mongo.dropCollection(SlaRollups.LIVE);
        assertThat(exact.built()).isFalse();
        assertThat(exact.rebuild(NEXT_DAY)).containsExactly(2, 1, 2);
        assertThat(exact.built()).isTrue();
        SlaRollups.Figures rebuilt = approximate.report(DAY, NEXT_DAY, List.of(), null).totals().get("firstResponse");
        assertThat(rebuilt.count()).isEqualTo(incremental.count()).isEqualTo(2);
        assertThat(rebuilt.average(true)).isEqualTo(incremental.average(true));
        assertThat(rebuilt.percentile(90, false)).isEqualTo(incremental.percentile(90, false));
        assertThat(exact.live()).isEqualTo(before).containsExactly(new SlaRollups.LiveEntry("c3", "open", "vk", "bob", DAY, NEXT_DAY, DAY));

        exact.live("c3", c3.append("status", "resolved"), null);
        assertThat(exact.live()).isEmpty();
        // counted after the rebuild as before it: the next record of the same outcome changes nothing
        exact.record("c2:firstResponse:1", outcome("firstResponse", "email", null, "2026-03-09T12:15:00Z", 900, true));
        assertThat(approximate.report(DAY, NEXT_DAY, List.of(), null).totals().get("firstResponse").count()).isEqualTo(2);
    }

    @Test
    void liveEntriesWrittenTogetherEqualTheSingleWrites_andNothingIsStoredBeforeTheFlush() {
        List<Document> open = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            open.add(new Document("_id", "b" + i).append("status", "open").append("channel", i % 2 == 0 ? "telegram" : "vk")
                    .append("lastMessageAt", Date.from(DAY)).append("firstCustomerMessageAt", Date.from(DAY.plusSeconds(i))));
        }
        SlaRollups singles = new SlaRollups(mongo);
        for (Document c : open) {
            singles.live(c.getString("_id"), c, NEXT_DAY);
        }
        singles.live("b7", open.get(7).append("status", "resolved"), null);
        List<SlaRollups.LiveEntry> one = singles.live();
        mongo.dropCollection(SlaRollups.LIVE);

        SlaRollups batched = new SlaRollups(mongo); // remembers nothing this instance wrote
        SlaRollups.LiveWrites writes = batched.liveWrites();
        for (Document c : open) {
            writes.live(c.getString("_id"), c.append("status", "open"), NEXT_DAY);
        }
        writes.live("b7", open.get(7).append("status", "resolved"), null); // the last entry given wins
        assertThat(batched.live()).isEmpty();
        writes.flush();

        assertThat(batched.live()).hasSize(199).containsExactlyInAnyOrderElementsOf(one);
        assertThat(batched.live()).extracting(SlaRollups.LiveEntry::id).doesNotContain("b7").contains("b0", "b199");
        // 64 shards at most, however many conversations: one write each
        assertThat(mongo.getCollection(SlaRollups.LIVE).countDocuments()).isLessThanOrEqualTo(SlaRollups.LIVE_SHARDS);
    }
}
