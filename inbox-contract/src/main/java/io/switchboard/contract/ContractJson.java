package io.switchboard.contract;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The one JSON form of the contract's records on the wire. Producers write bytes made here and
 * consumers read them here, so no Java class name or serializer setting becomes part of the contract.
 */
public final class ContractJson {

    // Unknown fields are ignored: a newer producer may add fields within the same major version.
    private static final JsonMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    public static byte[] toBytes(Object record) {
        return MAPPER.writeValueAsBytes(record);
    }

    public static String toJson(Object record) {
        return MAPPER.writeValueAsString(record);
    }

    /**
     * Reads a record, turning every failure (bad JSON, missing required field, unknown channel)
     * into {@link UndecodableRecordException} with a reason fit for a dead-letter header.
     */
    public static <T> T fromBytes(byte[] bytes, Class<T> type) {
        if (bytes == null) {
            throw new UndecodableRecordException("record has no value");
        }
        try {
            T value = MAPPER.readValue(bytes, type);
            if (value == null) {
                throw new UndecodableRecordException("record value is JSON null");
            }
            return value;
        } catch (JacksonException e) {
            throw new UndecodableRecordException("not a valid " + type.getSimpleName() + ": " + rootMessage(e));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new UndecodableRecordException("not a valid " + type.getSimpleName() + ": " + e.getMessage());
        }
    }

    public static JsonMapper mapper() {
        return MAPPER;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        int cut = message.indexOf('\n');
        message = cut > 0 ? message.substring(0, cut) : message;
        // Jackson messages quote the offending input (a token, a value): the reason keeps their place, not their text.
        return message.replaceAll("'[^']*'", "'…'").replaceAll("\"[^\"]*\"", "\"…\"");
    }

    /** A record that cannot become a contract record: a poison pill for the dead-letter topic. */
    public static final class UndecodableRecordException extends RuntimeException {
        public UndecodableRecordException(String reason) {
            super(reason);
        }
    }

    private ContractJson() {
    }
}
