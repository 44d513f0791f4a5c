;; EDN read/print throughput of real Clojure on the JVM, the reader/printer pair a Sente peer
;; uses: clojure.tools.reader.edn (read) and pr-str (print). Same measure as edn-bench.
;;
;; usage:
;;   java -cp /usr/share/java/clojure.jar:/usr/share/java/tools.reader.jar clojure.main \
;;        Benchmarks/edn_bench.clj [--warmup S] [--time S] [--runs N] [--json] FILE...
;;
;; Each FILE is a stream of EDN values. For each file:
;;   read:  every form of the file read with clojure.tools.reader.edn/read from a
;;          string-push-back-reader over the whole text (what edn/read-string does for one
;;          form); MB/s of input text (UTF-8 bytes).
;;   print: pr-str of every top-level value; MB/s of the printed text (UTF-8 bytes).
;; Each measure is warmed up (JIT) for --warmup seconds (default 8), then timed --runs times
;; (default 5), each run repeating the operation for at least --time seconds (default 1); the
;; median run is reported (and, as cpu_mb_per_s in the JSON, the median by the CPU time of the
;; whole JVM process, GC and JIT threads included).
(ns edn-bench
  (:require [clojure.string :as str]
            [clojure.tools.reader.edn :as edn]
            [clojure.tools.reader.reader-types :as rt]))

(set! *warn-on-reflection* true)

(defn parse-args [args]
  (loop [o {:warmup 8.0 :time 1.0 :runs 5 :json false :files []} [a & more :as args] args]
    (cond
      (empty? args) o
      (= a "--warmup") (recur (assoc o :warmup (Double/parseDouble (first more))) (rest more))
      (= a "--time") (recur (assoc o :time (Double/parseDouble (first more))) (rest more))
      (= a "--runs") (recur (assoc o :runs (Long/parseLong (first more))) (rest more))
      (= a "--json") (recur (assoc o :json true) more)
      :else (recur (update o :files conj a) more))))

(defn read-all
  "Every form of the EDN text `s`, as a vector."
  [^String s]
  (let [rdr (rt/string-push-back-reader s)]
    (loop [acc (transient [])]
      (let [x (edn/read {:eof ::eof} rdr)]
        (if (identical? x ::eof)
          (persistent! acc)
          (recur (conj! acc x)))))))

(defn print-all
  "pr-str of every value; returns the total number of chars (so the work is kept)."
  ^long [values]
  (binding [*print-namespace-maps* false *print-length* nil *print-level* nil
            *print-meta* false *print-dup* false *print-readably* true]
    (loop [vs (seq values) n 0]
      (if vs
        (recur (next vs) (+ n (.length ^String (pr-str (first vs)))))
        n))))

(defn utf8-length ^long [^String s] (alength (.getBytes s "UTF-8")))

(def ^:dynamic *sink* 0)

(def ^com.sun.management.OperatingSystemMXBean os-bean
  (java.lang.management.ManagementFactory/getOperatingSystemMXBean))

(defn cpu-nanos
  "CPU time of the whole JVM process (all threads: GC and JIT included), in ns."
  ^long []
  (.getProcessCpuTime os-bean))

(defn measure
  "Warm up `f` for the warm-up time, then `runs` timed runs of at least `time` seconds each.
  Returns MB/s (10^6 bytes/s) figures for `nbytes` bytes per call."
  [f ^long nbytes {:keys [warmup time runs]}]
  (let [sink (volatile! 0)
        warm-end (+ (System/nanoTime) (long (* 1e9 warmup)))]
    (loop [] (vswap! sink + (long (f))) (when (< (System/nanoTime) warm-end) (recur)))
    (let [run-ns (long (* 1e9 time))
          runs (vec (for [_ (range runs)]
                      (let [cpu-start (cpu-nanos)
                            start (System/nanoTime)]
                        (loop [n 1]
                          (vswap! sink + (long (f)))
                          (let [el (- (System/nanoTime) start)]
                            (if (< el run-ns)
                              (recur (inc n))
                              (let [cpu (- (cpu-nanos) cpu-start)]
                                {:mbs (/ (* (double nbytes) n) (/ el 1e9) 1e6)
                                 :cpu-mbs (/ (* (double nbytes) n) (/ cpu 1e9) 1e6)
                                 :n n})))))))
          median (fn [xs]
                   (let [v (vec (sort xs)) c (count v)]
                     (if (odd? c) (v (quot c 2)) (/ (+ (v (dec (quot c 2))) (v (quot c 2))) 2.0))))
          mbs (map :mbs runs)]
      (alter-var-root #'*sink* + @sink)
      {:median (median mbs) :min (apply min mbs) :max (apply max mbs)
       :cpu-median (median (map :cpu-mbs runs)) :iterations (reduce + (map :n runs))})))

(defn bench-file [path opts]
  (let [text (slurp path :encoding "UTF-8")
        in-bytes (utf8-length text)
        values (read-all text)
        out-bytes (reduce + (map (fn [v] (utf8-length
                                           (binding [*print-namespace-maps* false] (pr-str v))))
                                 values))
        name (str/replace (.getName (java.io.File. ^String path)) #"\.edn$" "")
        r (measure #(count (read-all text)) in-bytes opts)
        p (measure #(print-all values) out-bytes opts)]
    {:name name :path path :input-bytes in-bytes :forms (count values) :output-bytes out-bytes
     :read r :print p}))

(defn json-str [^String s]
  (str "\"" (-> s (str/replace "\\" "\\\\") (str/replace "\"" "\\\"")) "\""))

(defn fmt2 [x] (format "%.2f" (double x)))

(defn json-measure [{:keys [median min max cpu-median iterations]}]
  (str "{\"mb_per_s\": " (fmt2 median) ", \"min\": " (fmt2 min) ", \"max\": " (fmt2 max)
       ", \"cpu_mb_per_s\": " (fmt2 cpu-median) ", \"iterations\": " iterations "}"))

(let [opts (parse-args *command-line-args*)]
  (when (empty? (:files opts))
    (binding [*out* *err*]
      (println "usage: edn_bench.clj [--warmup S] [--time S] [--runs N] [--json] FILE..."))
    (System/exit 2))
  (let [results (doall
                  (for [f (:files opts)]
                    (let [r (bench-file f opts)]
                      (when-not (:json opts)
                        (println (format "%-28s %9d B in, %9d B out  read %8.2f MB/s  print %8.2f MB/s"
                                         (:name r) (:input-bytes r) (:output-bytes r)
                                         (double (:median (:read r))) (double (:median (:print r)))))
                        (flush))
                      r)))]
    (when (:json opts)
      (println
        (str "{\"impl\": \"clojure\", \"clojure\": " (json-str (clojure-version))
             ", \"java\": " (json-str (System/getProperty "java.version"))
             ", \"warmup_s\": " (:warmup opts) ", \"time_s\": " (:time opts) ", \"runs\": " (:runs opts)
             ", \"files\": ["
             (str/join ", "
                       (for [r results]
                         (str "{\"name\": " (json-str (:name r)) ", \"path\": " (json-str (:path r))
                              ", \"input_bytes\": " (:input-bytes r) ", \"forms\": " (:forms r)
                              ", \"output_bytes\": " (:output-bytes r)
                              ", \"read\": " (json-measure (:read r))
                              ", \"print\": " (json-measure (:print r)) "}")))
             "]}")))
    (flush)
    (shutdown-agents)
    (System/exit 0)))
