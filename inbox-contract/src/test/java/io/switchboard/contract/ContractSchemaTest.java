package io.switchboard.contract;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every record the contract defines, and every fixture wrapped as the adapters wrap it, must match its schema. */
class ContractSchemaTest {

    private static final ObjectMapper JSON2 = new ObjectMapper();
    private static final Instant NOW = Instant.parse("2025-03-12T15:46:45Z");

    static JsonSchema schema(String name) {
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
        SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
        try (InputStream in = ContractJson.class.getResourceAsStream("schemas/" + name)) {
            assertThat(in).as("schema " + name).isNotNull();
            return factory.getSchema(in, config);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Set<ValidationMessage> validate(String schema, Object record) throws IOException {
        JsonNode node = JSON2.readTree(ContractJson.toBytes(record));
        return schema(schema).validate(node);
    }

    static Stream<Path> fixtures() throws IOException, URISyntaxException {
        Path root = Path.of(ContractSchemaTest.class.getResource("/fixtures/SOURCES.md").toURI()).getParent();
        return Files.walk(root).filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().equals("SOURCES.md")).sorted();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void everyFixtureWrappedInAnEnvelopeMatchesTheSchemaAndRoundTripsUnchanged(Path fixture) throws IOException {
        String folder = fixture.getParent().getFileName().toString();
        if (folder.equals("authored")) {
            folder = fixture.getParent().getParent().getFileName().toString();
        }
        Channel channel = folder.equals("messenger") ? Channel.FACEBOOK : Channel.fromWire(folder);
        byte[] raw = Files.readAllBytes(fixture);
        InboundEnvelope envelope = channel == Channel.EMAIL
                ? InboundEnvelope.ofBytes("email:default:uid:1", channel, "default", Map.of("uid", "1"), NOW,
                        "email:default", "message/rfc822", raw)
                : InboundEnvelope.ofText(channel.wire() + ":default:" + fixture.getFileName(), channel, "default",
                        Map.of(), NOW, channel.wire() + ":default:x", "application/json", new String(raw, java.nio.charset.StandardCharsets.UTF_8));

        assertThat(validate("inbound-envelope.v1.schema.json", envelope)).isEmpty();
        InboundEnvelope back = ContractJson.fromBytes(ContractJson.toBytes(envelope), InboundEnvelope.class);
        assertThat(back).isEqualTo(envelope);
        if (channel == Channel.EMAIL) {
            assertThat(back.payloadBytes()).isEqualTo(raw);
        }
    }

    @Test
    void outboundCommandMatchesItsSchema() throws IOException {
        OutboundCommand command = new OutboundCommand(1, "m-1", Channel.TELEGRAM, "default", "c-1",
                Map.of("chat_id", "42"), "Hello", null, "7", List.of("7"),
                List.of(new OutboundCommand.Attachment("log.txt", "text/plain", 3, "http://x/y")), NOW, "admin");
        assertThat(validate("outbound-command.v1.schema.json", command)).isEmpty();
        assertThat(ContractJson.fromBytes(ContractJson.toBytes(command), OutboundCommand.class)).isEqualTo(command);
    }

    @Test
    void deliveryReportsMatchTheirSchema_andFailedNeedsAReason() throws IOException {
        OutboundCommand command = new OutboundCommand(1, "m-1", Channel.VK, "default", "c-1", Map.of("peer_id", "1"),
                "hi", null, null, null, null, NOW, "admin");
        DeliveryReport sent = DeliveryReport.sent(command, "555", 1, NOW);
        DeliveryReport failed = DeliveryReport.failed(command, "901: can't send messages for users without permission", 1, NOW);
        assertThat(validate("delivery-report.v1.schema.json", sent)).isEmpty();
        assertThat(validate("delivery-report.v1.schema.json", failed)).isEmpty();
        assertThat(validate("delivery-report.v1.schema.json",
                DeliveryReport.unreachable(command, "Forbidden: bot was blocked by the user", 1, NOW))).isEmpty();
        // a report written before recipientUnreachable existed still reads (additive change)
        DeliveryReport old = ContractJson.fromBytes(("{\"schemaVersion\":1,\"messageId\":\"m-1\",\"channel\":\"vk\","
                + "\"status\":\"sent\",\"externalId\":\"9\",\"attempts\":1,\"at\":\"2025-03-12T15:46:45Z\"}").getBytes(), DeliveryReport.class);
        assertThat(old.recipientUnreachable()).isFalse();

        DeliveryReport failedWithoutReason = new DeliveryReport(1, "m-1", Channel.VK, "default", "c-1",
                DeliveryReport.Status.FAILED, null, null, 1, NOW);
        assertThat(validate("delivery-report.v1.schema.json", failedWithoutReason)).isNotEmpty();
    }

    @Test
    void conversationEventMatchesItsSchema() throws IOException {
        ConversationEvent event = new ConversationEvent(1, "e-1", ConversationEvent.MESSAGE_ADDED, "c-1", "m-1",
                Channel.EMAIL, NOW, Map.of("direction", "inbound"));
        assertThat(validate("conversation-event.v1.schema.json", event)).isEmpty();
        ConversationEvent unknownType = new ConversationEvent(1, "e-1", "message.exploded", "c-1", null, null, NOW, null);
        assertThat(validate("conversation-event.v1.schema.json", unknownType)).isNotEmpty();
    }

    @Test
    void aPayloadReferenceEnvelopeMatchesBothSchemasAndRoundTrips() throws IOException {
        PayloadReference ref = new PayloadReference(PayloadReference.STORE_RAW_PAYLOADS, "a".repeat(64), 12_582_912,
                "a".repeat(64), "message/rfc822");
        InboundEnvelope envelope = InboundEnvelope.ofText("email:default:INBOX:1:7", Channel.EMAIL, "default",
                Map.of("uid", "7"), NOW, "email:default:x", InboundEnvelope.CONTENT_TYPE_PAYLOAD_REF, ContractJson.toJson(ref));
        assertThat(validate("inbound-envelope.v1.schema.json", envelope)).isEmpty();
        assertThat(validate("payload-reference.v1.schema.json", ref)).isEmpty();
        assertThat(PayloadReference.isReference(envelope)).isTrue();
        InboundEnvelope back = ContractJson.fromBytes(ContractJson.toBytes(envelope), InboundEnvelope.class);
        assertThat(ContractJson.fromBytes(back.payloadBytes(), PayloadReference.class)).isEqualTo(ref);
        assertThatThrownBy(() -> new PayloadReference("rawPayloads", "x", 1, "not-a-digest", "message/rfc822"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(schema("payload-reference.v1.schema.json").validate(JSON2.readTree("{\"store\":\"rawPayloads\",\"id\":\"x\",\"size\":1,"
                + "\"sha256\":\"XYZ\",\"contentType\":\"message/rfc822\"}"))).isNotEmpty();
    }

    @Test
    void replayRequestMatchesItsSchema() throws IOException {
        ReplayRequest all = new ReplayRequest(1, "r-1", null, NOW, null, "admin", NOW);
        ReplayRequest one = new ReplayRequest(1, "r-2", Channel.EMAIL, NOW, NOW.plusSeconds(3600), "admin", NOW);
        assertThat(validate("replay-request.v1.schema.json", all)).isEmpty();
        assertThat(validate("replay-request.v1.schema.json", one)).isEmpty();
        assertThat(ContractJson.fromBytes(ContractJson.toBytes(one), ReplayRequest.class)).isEqualTo(one);
    }

    @Test
    void slaEventMatchesItsSchema() throws IOException {
        SlaEvent breach = new SlaEvent(1, "c-1:firstResponse:1:breach", SlaEvent.BREACHED, "c-1", "firstResponse", "1",
                "default", Channel.TELEGRAM, "default", "normal", null, NOW, NOW, NOW.plusMillis(120), false);
        assertThat(validate("sla-event.v1.schema.json", breach)).isEmpty();
        assertThat(ContractJson.fromBytes(ContractJson.toBytes(breach), SlaEvent.class)).isEqualTo(breach);
        SlaEvent unknownMetric = new SlaEvent(1, "e", SlaEvent.WARNING, "c-1", "happiness", "1", null, null, null, null, null,
                NOW, NOW, NOW, true);
        assertThat(validate("sla-event.v1.schema.json", unknownMetric)).isNotEmpty();
    }

    @Test
    void theWireFormUsesLowerCaseChannelsAndIsoInstants() {
        String json = ContractJson.toJson(InboundEnvelope.ofText("e", Channel.TELEGRAM, "default", Map.of(), NOW,
                "k", "application/json", "{}"));
        assertThat(json).contains("\"channel\":\"telegram\"").contains("\"receivedAt\":\"2025-03-12T15:46:45Z\"");
    }

    @Test
    void undecodableBytesBecomeAReasonNotAnUncheckedCrash() {
        assertThatThrownBy(() -> ContractJson.fromBytes("not json".getBytes(), InboundEnvelope.class))
                .isInstanceOf(ContractJson.UndecodableRecordException.class)
                .hasMessageContaining("InboundEnvelope");
        assertThatThrownBy(() -> ContractJson.fromBytes("{\"channel\":\"fax\"}".getBytes(), InboundEnvelope.class))
                .isInstanceOf(ContractJson.UndecodableRecordException.class);
        assertThatThrownBy(() -> ContractJson.fromBytes("{\"channel\":\"telegram\"}".getBytes(), InboundEnvelope.class))
                .isInstanceOf(ContractJson.UndecodableRecordException.class);
        // the reason travels to a dead-letter header and the admin API: no payload text in it
        assertThatThrownBy(() -> ContractJson.fromBytes("{\"channel\": anna-secret-token}".getBytes(), InboundEnvelope.class))
                .isInstanceOf(ContractJson.UndecodableRecordException.class)
                .message().doesNotContain("anna-secret-token");
        assertThatThrownBy(() -> ContractJson.fromBytes(null, InboundEnvelope.class))
                .isInstanceOf(ContractJson.UndecodableRecordException.class);
    }

    @Test
    void topicNamesFollowTheCatalogueConvention() {
        for (Channel c : Channel.values()) {
            assertThat(Topics.inbound(c)).matches("inbox\\.inbound\\.[a-z]+\\.v1");
            assertThat(Topics.outbound(c)).matches("inbox\\.outbound\\.[a-z]+\\.v1");
        }
        assertThat(List.of(Topics.DELIVERY_REPORTS, Topics.CONVERSATION_EVENTS, Topics.SLA_EVENTS, Topics.ROUTER_DEAD_LETTER))
                .allMatch(t -> t.matches("inbox\\.[a-z]+\\.[a-z-]+\\.v\\d+"));
    }
}
