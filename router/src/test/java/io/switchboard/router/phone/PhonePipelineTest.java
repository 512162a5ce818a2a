package io.switchboard.router.phone;

import io.switchboard.contract.Channel;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.router.support.Await;
import io.switchboard.router.support.Fixtures;
import io.switchboard.store.Conversation;
import io.switchboard.store.Message;
import io.switchboard.store.Transcript;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Calls through the router on an embedded broker and the in-process store: conversations, call entries, SLA clock. */
class PhonePipelineTest extends ChannelPipelineSupport {

    /** As channel-phone publishes it: one envelope per call event. */
    private void publish(String format, String contentType, String payload) throws Exception {
        InboundEnvelope e = InboundEnvelope.ofText("phone:default:" + format + ":" + payload.hashCode(), Channel.PHONE, "default",
                Map.of("format", format, "region", "RU", "time_zone", "UTC"), Instant.now(), "phone:default:k", contentType, payload);
        publish(e);
    }

    private Conversation conversationOf(String e164, java.util.function.Predicate<Conversation> done) {
        return Await.until(() -> store.conversationByThreadKey("phone:default:" + e164).flatMap(store::find).orElse(null),
                c -> c != null && done.test(c), WAIT);
    }

    private List<Message> calls(String conversationId) {
        return store.transcript(conversationId).map(Transcript::messages).orElse(List.of());
    }

    @Test
    void threeMissedCallsInThreeNumberFormatsMakeOneCallbackConversation_andTheAnsweredCallbackStopsTheClock() throws Exception {
        List<String> lines = Fixtures.text("phone/authored/authored_asterisk_master_missed_same_number_3_formats.csv").lines().toList();
        for (String line : lines.subList(0, 3)) {
            publish("asterisk-cdr", "text/csv", line);
        }
        Conversation waiting = conversationOf("+78125550123", c -> c.lastCustomerMessageAt() != null
                && c.lastCustomerMessageAt().equals(Instant.parse("2024-11-05T17:02:03Z")));
        assertThat(waiting.channel()).isEqualTo("phone");
        assertThat(waiting.status()).isEqualTo("open");
        assertThat(waiting.awaitingSince()).isEqualTo(Instant.parse("2024-11-05T16:01:10Z")); // the clock runs from the first missed call
        assertThat(waiting.firstResponseAt()).isNull();
        assertThat(waiting.replyAddress()).containsEntry("phone", "+78125550123");
        assertThat(store.contact(waiting.contactId())).get().satisfies(contact ->
                assertThat(contact.identities()).extracting(i -> i.key()).containsExactly("phone:+78125550123"));
        List<Message> missed = calls(waiting.id());
        assertThat(missed).hasSize(3).allSatisfy(m -> {
            assertThat(m.kind()).isEqualTo("call");
            assertThat(m.direction()).isEqualTo("inbound");
            assertThat(m.channel()).isEqualTo("phone");
            assertThat(m.meta()).containsEntry("disposition", "no-answer").containsEntry("customer", "+78125550123");
            assertThat(m.text()).startsWith("Missed call from +78125550123 (no answer)");
        });
        assertThat(missed).extracting(m -> m.meta().get("agent")).containsExactly("201", "202", "201");

        publish("asterisk-cdr", "text/csv", lines.get(3)); // the agent calls back and the customer picks up
        // recording a response ends with clearing awaitingSince: wait for the whole of it
        Conversation answered = conversationOf("+78125550123", c -> c.firstResponseAt() != null && c.awaitingSince() == null);
        assertThat(answered.id()).isEqualTo(waiting.id());
        assertThat(answered.firstResponseAt()).isEqualTo(Instant.parse("2024-11-05T17:10:07Z"));
        assertThat(answered.awaitingSince()).isNull();
        Message callback = calls(waiting.id()).get(3);
        assertThat(callback.direction()).isEqualTo("outbound");
        assertThat(callback.kind()).isEqualTo("call");
        assertThat(callback.meta()).containsEntry("disposition", "answered").containsEntry("durationSeconds", "203")
                .containsEntry("agent", "201");
        assertThat(callback.text()).isEqualTo("Outbound call to +78125550123, by 201, 3 min 23 s");
    }

    @Test
    void anOutboundCallNobodyAnsweredDoesNotStopTheClock() throws Exception {
        String number = "84951230046";
        publish("generic", "application/json", "{\"callId\":\"clock-1\",\"direction\":\"inbound\",\"from\":\"" + number
                + "\",\"startedAt\":\"2024-11-05T10:00:00Z\",\"disposition\":\"busy\"}");
        publish("asterisk-ami", "text/plain", Fixtures.text("phone/authored/authored_ami_cdr_event_busy.txt")
                .replace("84951230045", number));
        // the transcript is written a moment before the conversation's times: wait for both
        Conversation c = conversationOf("+74951230046", x -> calls(x.id()).size() == 2 && x.awaitingSince() != null);
        assertThat(c.awaitingSince()).isEqualTo(Instant.parse("2024-11-05T10:00:00Z"));
        assertThat(c.firstResponseAt()).isNull();
        assertThat(calls(c.id()).get(1).text()).isEqualTo("Outbound call to +74951230046 not answered (busy)");
    }

    @Test
    void partialEventsOfOneCallMergeIntoOneEntry_andAnAnsweredInboundCallIsHandledOnTheSpot() throws Exception {
        String base = "{\"callId\":\"merge-1\",\"direction\":\"inbound\",\"from\":\"+7 (499) 350-97-03\",\"startedAt\":\"2024-11-06T09:00:00Z\"";
        publish("generic", "application/json", base + ",\"event\":\"start\"}");
        Conversation ringing = conversationOf("+74993509703", x -> calls(x.id()).size() == 1 && x.awaitingSince() != null);
        assertThat(calls(ringing.id()).get(0).meta()).containsEntry("disposition", "ringing");
        assertThat(ringing.awaitingSince()).isEqualTo(Instant.parse("2024-11-06T09:00:00Z"));

        publish("generic", "application/json", base + ",\"event\":\"answer\",\"answeredAt\":\"2024-11-06T09:00:12Z\",\"agent\":\"203\"}");
        String end = base + ",\"event\":\"end\",\"answeredAt\":\"2024-11-06T09:00:12Z\",\"endedAt\":\"2024-11-06T09:05:12Z\","
                + "\"recordingUrl\":\"https://pbx.example/rec/merge-1.mp3\"}";
        publish("generic", "application/json", end);
        publish("generic", "application/json", end); // the PBX retried
        Message merged = Await.until(() -> calls(ringing.id()).get(0), m -> m.meta().containsKey("recordingUrl"), WAIT);
        Conversation handled = conversationOf("+74993509703", x -> x.firstResponseAt() != null && x.awaitingSince() == null
                && x.preview() != null && x.preview().contains("Recording"));
        assertThat(calls(ringing.id())).hasSize(1);
        assertThat(merged.meta()).containsEntry("disposition", "answered").containsEntry("agent", "203")
                .containsEntry("answeredAt", "2024-11-06T09:00:12Z").containsEntry("endedAt", "2024-11-06T09:05:12Z")
                .containsEntry("durationSeconds", "300").containsEntry("recordingUrl", "https://pbx.example/rec/merge-1.mp3");
        assertThat(merged.text()).isEqualTo("Inbound call from +74993509703, answered by 203, 5 min 0 s\n"
                + "Recording: https://pbx.example/rec/merge-1.mp3");
        assertThat(handled.id()).isEqualTo(ringing.id());
        assertThat(handled.firstResponseAt()).isEqualTo(Instant.parse("2024-11-06T09:00:12Z"));
        assertThat(handled.awaitingSince()).isNull();
        assertThat(handled.preview()).isEqualTo("Inbound call from +74993509703, answered by 203, 5 min 0 s Recording: "
                + "https://pbx.example/rec/merge-1.mp3");
    }
}
