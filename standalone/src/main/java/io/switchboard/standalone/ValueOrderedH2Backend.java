package io.switchboard.standalone;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.AbstractUniqueIndex;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.type.ObjectDataType;

import java.util.List;
import java.util.Map;

/**
 * mongo-java-server's H2 backend with one change: its unique indexes (every {@code _id} and the
 * store's {@code (_id, _v)}) order their keys by value instead of by their Java-serialized bytes.
 *
 * <p>Why: H2 compares keys it does not know (mongo-java-server's {@code KeyValue}) by serializing
 * both sides with {@code ObjectOutputStream} on every comparison of every B-tree search. The
 * pipeline profile showed that as about 40% of the embedded store's time (ADR 0003). Keys are
 * still written to the file in H2's format; only the order differs, so these indexes live in maps
 * of their own name ({@code ._vindex_}), built from the documents on the first start after an
 * upgrade, while the maps of the old order are left unused.
 */
final class ValueOrderedH2Backend extends H2Backend {

    ValueOrderedH2Backend(MVStore store) {
        super(store);
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
        return ValueOrderedDatabase.open(databaseName, getMvStore(), getCursorRegistry());
    }

    /** Orders {@code KeyValue}s element by element with MongoDB's comparison of values. */
    static final class KeyValueType extends ObjectDataType {
        private static final ValueComparator VALUES = ValueComparator.asc();

        @Override
        public int compare(Object a, Object b) {
            if (a instanceof KeyValue x && b instanceof KeyValue y) {
                int n = Math.min(x.size(), y.size());
                for (int i = 0; i < n; i++) {
                    int c = VALUES.compare(x.get(i), y.get(i));
                    if (c != 0) {
                        return c;
                    }
                }
                return Integer.compare(x.size(), y.size());
            }
            return super.compare(a, b);
        }
    }

    static final class ValueOrderedDatabase extends H2Database {

        /** The store while the super constructor opens the existing indexes (before this class's fields are set). */
        private static final ThreadLocal<MVStore> OPENING = new ThreadLocal<>();
        private final MVStore store;

        static ValueOrderedDatabase open(String name, MVStore store, CursorRegistry cursors) {
            OPENING.set(store);
            try {
                return new ValueOrderedDatabase(name, store, cursors);
            } finally {
                OPENING.remove();
            }
        }

        private ValueOrderedDatabase(String name, MVStore store, CursorRegistry cursors) {
            super(name, store, cursors);
            this.store = store;
        }

        private MVStore store() {
            return store != null ? store : OPENING.get();
        }

        private String mapName(String collectionName, String indexName) {
            return getFullCollectionNamespace(collectionName) + "._vindex_" + indexName;
        }

        @Override
        protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                        boolean sparse) {
            MVMap<KeyValue, Object> map = store().openMap(mapName(collectionName, indexName),
                    new MVMap.Builder<KeyValue, Object>().keyType(new KeyValueType()));
            return new ValueOrderedIndex(map, indexName, keys, sparse);
        }

        @Override
        protected void dropIndex(MongoCollection<Object> collection, String indexName) {
            super.dropIndex(collection, indexName);
            store().removeMap(mapName(collection.getCollectionName(), indexName));
        }
    }

    /** H2's unique index over a map with {@link KeyValueType} keys. */
    static final class ValueOrderedIndex extends AbstractUniqueIndex<Object> {
        private final MVMap<KeyValue, Object> map;

        ValueOrderedIndex(MVMap<KeyValue, Object> map, String name, List<IndexKey> keys, boolean sparse) {
            super(name, keys, sparse);
            this.map = map;
        }

        @Override
        protected Object removeDocument(KeyValue key) {
            return map.remove(key);
        }

        @Override
        protected boolean putKeyPosition(KeyValue key, Object position) {
            return map.putIfAbsent(key, Missing.ofNullable(position)) == null;
        }

        @Override
        protected Iterable<Map.Entry<KeyValue, Object>> getIterable() {
            return map.entrySet();
        }

        @Override
        protected Object getPosition(KeyValue key) {
            return map.get(key);
        }

        @Override
        public long getCount() {
            return map.sizeAsLong();
        }

        @Override
        public boolean isEmpty() {
            return map.isEmpty();
        }

        @Override
        public long getDataSize() {
            return getCount();
        }
    }
}
