package io.switchboard.router.phone;

import io.switchboard.contract.Channel;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.CallRecord;
import io.switchboard.router.normalize.DomainChange.Ignored;
import io.switchboard.router.normalize.MalformedEventException;
import io.switchboard.router.normalize.NormalizerRegistry;
import io.switchboard.router.support.Fixtures;
import io.switchboard.store.Identity;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One assertion set per fixture in fixtures/phone (see SOURCES.md there), split into events as channel-phone does. */
class PhoneNormalizerTest {

    private final PhoneNormalizer normalizer = new PhoneNormalizer();

    static InboundEnvelope envelope(String format, String contentType, String payload) {
        return envelope(format, contentType, payload, "RU", "UTC");
    }

    static InboundEnvelope envelope(String format, String contentType, String payload, String region, String zone) {
        return InboundEnvelope.ofText("phone:default:test:" + payload.hashCode(), Channel.PHONE, "default",
                Map.of("format", format, "region", region, "time_zone", zone), Instant.parse("2025-01-01T00:00:00Z"),
                "phone:default:x", contentType, payload);
    }

    /** One envelope per CSV line, like the adapter. */
    private List<DomainChange> csv(String fixture) throws MalformedEventException {
        List<DomainChange> all = new ArrayList<>();
        for (String line : Fixtures.text("phone/" + fixture).split("\r?\n")) {
            if (!line.isBlank()) {
                all.addAll(normalizer.normalize(envelope("asterisk-cdr", "text/csv", line)));
            }
        }
        return all;
    }

    private CallRecord only(InboundEnvelope e) throws MalformedEventException {
        List<DomainChange> changes = normalizer.normalize(e);
        assertThat(changes).hasSize(1).first().isInstanceOf(CallRecord.class);
        return (CallRecord) changes.get(0);
    }

    private static String form(String fixture) {
        return Fixtures.text("phone/authored/" + fixture).strip();
    }

    @Test
    void isFoundByTheRegistryForItsChannel() {
        assertThat(NormalizerRegistry.fromServiceLoader().forChannel(Channel.PHONE)).get().isInstanceOf(PhoneNormalizer.class);
    }

    @Test
    void numbersInEveryFormatBecomeOneE164Identity() {
        for (String raw : List.of("+7 (499) 350-97-03", "84993509703", "74993509703", "8 499 350 97 03", "tel:+74993509703")) {
            assertThat(PhoneNumbers.e164(raw, "RU")).as(raw).contains("+74993509703");
        }
        assertThat(PhoneNumbers.e164("4993509703", "RU")).contains("+74993509703");
        assertThat(PhoneNumbers.e164("201", "RU")).isEmpty();
        assertThat(PhoneNumbers.e164("anonymous", "RU")).isEmpty();
        assertThat(PhoneNumbers.e164("030 1234567", "DE")).contains("+49301234567");
    }

    @Test
    void allDispositionsFixture_callsBetweenExtensionsAreIgnored() throws Exception {
        assertThat(csv("asterisk_testsuite_cdr_all_dispositions.csv")).hasSize(5)
                .allSatisfy(c -> assertThat(c).isEqualTo(new Ignored("internal call")));
    }

    @Test
    void allDispositionsFixture_withAnExternalCaller_mapsEveryDisposition() throws Exception {
        List<String> dispositions = new ArrayList<>();
        for (String line : Fixtures.text("phone/asterisk_testsuite_cdr_all_dispositions.csv").split("\n")) {
            CallRecord c = only(envelope("asterisk-cdr", "text/csv", line.replace("\"test\",\"100\"", "\"84993509703\",\"100\"")));
            assertThat(c.customer()).isEqualTo(new Identity("phone", "+74993509703"));
            assertThat(c.direction()).isEqualTo("inbound");
            assertThat(c.startedAt()).isEqualTo(Instant.parse("2009-01-14T23:51:15Z"));
            assertThat(c.endedAt()).isEqualTo(Instant.parse("2009-01-14T23:51:20Z"));
            assertThat(c.callKey()).isEqualTo("phone:default:asterisk:1231977075.0");
            dispositions.add(c.disposition());
        }
        assertThat(dispositions).containsExactly("answered", "answered", "failed", "no-answer", "busy");
    }

    @Test
    void unterminatedQuoteFixture_isMalformed() {
        assertThatThrownBy(() -> csv("asterisk_testsuite_cdr_unterminated_quote.csv"))
                .isInstanceOf(MalformedEventException.class).hasMessageContaining("unterminated quote");
    }

    @Test
    void consoleHangupFixture_noCallerAtAllIsIgnored() throws Exception {
        assertThat(csv("asterisk_testsuite_master_console_hangup.csv")).containsExactly(
                new Ignored("internal call"), new Ignored("internal call"));
    }

    @Test
    void threeMissedCallsInThreeFormatsAndTheCallback_oneNumberOneThread() throws Exception {
        List<DomainChange> changes = csv("authored/authored_asterisk_master_missed_same_number_3_formats.csv");
        assertThat(changes).hasSize(4).allSatisfy(c -> assertThat(c).isInstanceOf(CallRecord.class));
        List<CallRecord> calls = changes.stream().map(CallRecord.class::cast).toList();
        assertThat(calls).extracting(CallRecord::customer).containsOnly(new Identity("phone", "+78125550123"));
        assertThat(calls).extracting(c -> c.thread().threadKey()).containsOnly("phone:default:+78125550123");
        assertThat(calls).extracting(CallRecord::direction).containsExactly("inbound", "inbound", "inbound", "outbound");
        assertThat(calls).extracting(CallRecord::disposition).containsExactly("no-answer", "no-answer", "no-answer", "answered");
        assertThat(calls).extracting(CallRecord::callKey).containsExactly("phone:default:asterisk:1730811670.257",
                "phone:default:asterisk:1730812844.263", "phone:default:asterisk:1730815323.271", "phone:default:asterisk:1730815800.280");
        CallRecord first = calls.get(0);
        assertThat(first.startedAt()).isEqualTo(Instant.parse("2024-11-05T16:01:10Z"));
        assertThat(first.answeredAt()).isNull();
        assertThat(first.endedAt()).isEqualTo(Instant.parse("2024-11-05T16:01:35Z"));
        assertThat(first.agent()).isEqualTo("201");
        CallRecord callback = calls.get(3);
        assertThat(callback.agent()).isEqualTo("201");
        assertThat(callback.answeredAt()).isEqualTo(Instant.parse("2024-11-05T17:10:07Z"));
        assertThat(callback.endedAt()).isEqualTo(Instant.parse("2024-11-05T17:13:30Z"));
    }

    @Test
    void pbxLocalTimesAreReadInTheAccountsZone() throws Exception {
        String line = Fixtures.text("phone/authored/authored_asterisk_master_missed_same_number_3_formats.csv").lines().findFirst().orElseThrow();
        CallRecord c = only(envelope("asterisk-cdr", "text/csv", line, "RU", "Europe/Moscow"));
        assertThat(c.startedAt()).isEqualTo(Instant.parse("2024-11-05T13:01:10Z"));
    }

    @Test
    void amiBusyFixture_anOutboundCallNobodyPickedUp() throws Exception {
        CallRecord c = only(envelope("asterisk-ami", "text/plain", Fixtures.text("phone/authored/authored_ami_cdr_event_busy.txt")));
        assertThat(c.direction()).isEqualTo("outbound");
        assertThat(c.customer()).isEqualTo(new Identity("phone", "+74951230045"));
        assertThat(c.disposition()).isEqualTo("busy");
        assertThat(c.agent()).isEqualTo("201");
        assertThat(c.answeredAt()).isNull();
        assertThat(c.startedAt()).isEqualTo(Instant.parse("2024-11-05T18:00:01Z"));
        assertThat(c.callKey()).isEqualTo("phone:default:asterisk:1730818801.301");
    }

    @Test
    void amiDocsSyntaxTemplate_isMalformed() {
        assertThatThrownBy(() -> normalizer.normalize(envelope("asterisk-ami", "text/plain",
                Fixtures.text("phone/asterisk_docs_ami_cdr_event_syntax.txt")))).isInstanceOf(MalformedEventException.class);
    }

    @Test
    void zadarmaNotifyEndFixture_aMissedInboundCall() throws Exception {
        CallRecord c = only(envelope("zadarma", "application/x-www-form-urlencoded", form("authored_zadarma_notify_end_no_answer.form")));
        assertThat(c.direction()).isEqualTo("inbound");
        assertThat(c.customer()).isEqualTo(new Identity("phone", "+78125550123"));
        assertThat(c.disposition()).isEqualTo("no-answer");
        assertThat(c.agent()).isEqualTo("201");
        assertThat(c.startedAt()).isEqualTo(Instant.parse("2024-11-05T16:01:10Z"));
        assertThat(c.callKey()).isEqualTo("phone:default:zadarma:in_0f9e8d7c6b5a4f3e2d1c");
        assertThat(c.thread().threadKey()).isEqualTo("phone:default:+78125550123");
    }

    @Test
    void zadarmaPartialEventsShareTheCallKey() throws Exception {
        String start = "event=NOTIFY_START&call_start=2024-11-05+16%3A01%3A10&pbx_call_id=in_1&caller_id=%2B74993509703&called_did=74957770011";
        String answer = "event=NOTIFY_ANSWER&call_start=2024-11-05+16%3A01%3A10&pbx_call_id=in_1&caller_id=84993509703&destination=202&internal=202";
        CallRecord a = only(envelope("zadarma", "application/x-www-form-urlencoded", start));
        CallRecord b = only(envelope("zadarma", "application/x-www-form-urlencoded", answer));
        assertThat(a.callKey()).isEqualTo(b.callKey());
        assertThat(a.disposition()).isEqualTo("ringing");
        assertThat(b.disposition()).isEqualTo("answered");
        assertThat(b.customer()).isEqualTo(a.customer());
        assertThat(normalizer.normalize(envelope("zadarma", "application/x-www-form-urlencoded",
                "event=NOTIFY_RECORD&pbx_call_id=in_1&call_id_with_rec=x&call_start=2024-11-05+16%3A01%3A10")))
                .singleElement().isInstanceOf(Ignored.class);
    }

    @Test
    void mangoSummaryFixture_anAnsweredInboundCall() throws Exception {
        CallRecord c = only(envelope("mango", "application/x-www-form-urlencoded", form("authored_mango_events_summary_answered.form")));
        assertThat(c.direction()).isEqualTo("inbound");
        assertThat(c.customer()).isEqualTo(new Identity("phone", "+78125550123"));
        assertThat(c.disposition()).isEqualTo("answered");
        assertThat(c.agent()).isEqualTo("201");
        assertThat(c.startedAt()).isEqualTo(Instant.ofEpochSecond(1730811670));
        assertThat(c.answeredAt()).isEqualTo(Instant.ofEpochSecond(1730811680));
        assertThat(c.endedAt()).isEqualTo(Instant.ofEpochSecond(1730811905));
        assertThat(c.callKey()).isEqualTo("phone:default:mango:MjA5OTQ4NzczOjIwMQ==");
    }

    @Test
    void twilioBusyFixture_anOutboundCallThatFoundTheLineBusy() throws Exception {
        CallRecord c = only(envelope("twilio", "application/x-www-form-urlencoded", form("authored_twilio_status_busy.form")));
        assertThat(c.direction()).isEqualTo("outbound");
        assertThat(c.customer()).isEqualTo(new Identity("phone", "+78125550123"));
        assertThat(c.disposition()).isEqualTo("busy");
        assertThat(c.startedAt()).isEqualTo(Instant.parse("2024-11-05T15:05:40Z"));
        assertThat(c.callKey()).isEqualTo("phone:default:twilio:CA00000000000000000000000000000002");
    }

    @Test
    void genericJson_eventsAndDispositions() throws Exception {
        CallRecord missed = only(envelope("generic", "application/json", """
                {"callId":"g-1","event":"end","direction":"inbound","from":"+7 (499) 350-97-03","to":"74957770011",
                 "startedAt":"2024-11-05T16:01:10+03:00","endedAt":"2024-11-05T13:01:40Z","disposition":"NO ANSWER","agent":"201"}"""));
        assertThat(missed.disposition()).isEqualTo("no-answer");
        assertThat(missed.startedAt()).isEqualTo(Instant.parse("2024-11-05T13:01:10Z"));
        assertThat(missed.customer()).isEqualTo(new Identity("phone", "+74993509703"));
        assertThat(missed.callKey()).isEqualTo("phone:default:generic:g-1");
        CallRecord answered = only(envelope("generic", "application/json", """
                {"callId":"g-2","direction":"outbound","from":"201","to":"84993509703","startedAt":1730811670,
                 "answeredAt":1730811680,"endedAt":1730811700,"recordingUrl":"https://pbx.example/rec/g-2.mp3"}"""));
        assertThat(answered.disposition()).isEqualTo("answered");
        assertThat(answered.recordingUrl()).isEqualTo("https://pbx.example/rec/g-2.mp3");
        CallRecord ringing = only(envelope("generic", "application/json",
                "{\"callId\":\"g-3\",\"event\":\"start\",\"direction\":\"inbound\",\"from\":\"84993509703\",\"startedAt\":1730811670}"));
        assertThat(ringing.disposition()).isEqualTo("ringing");
        assertThat(normalizer.normalize(envelope("generic", "application/json",
                "{\"callId\":\"g-4\",\"direction\":\"inbound\",\"from\":\"anonymous\",\"startedAt\":1730811670}")))
                .containsExactly(new Ignored("customer number not recognised"));
        assertThatThrownBy(() -> normalizer.normalize(envelope("generic", "application/json", "{\"direction\":\"inbound\"}")))
                .isInstanceOf(MalformedEventException.class);
    }
}
